import { ValidationError } from "../core/errors";
import { freeTextSpec, type FieldSpec } from "./fields";

/**
 * A dataset from a schema the user already has: a JSON Schema (an object's `properties`) or an Avro
 * record (`.avsc`). A schema says what values may be, not how often: an optional field gets a
 * `null_probability` of OPTIONAL_NULLS, a range without bounds the defaults below, an enum its
 * values uniformly.
 */

/** The share of records without an optional field (a schema does not say how many). */
export const OPTIONAL_NULLS = 0.1;
/** Nesting followed at most; `$ref` chains deeper (or circular) are refused. */
const MAX_DEPTH = 12;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const fail = (where: string, message: string): never => {
  throw new ValidationError("source", `${where}: ${message}`);
};

export interface InferredDataset {
  readonly name: string;
  readonly description: string;
  readonly required?: string[];
  readonly fields: Record<string, FieldSpec>;
}

/** True when a parsed JSON document is a JSON Schema of an object (rather than a record of a sample). */
export const isJsonSchema = (doc: unknown): boolean => isObj(doc) && (typeof doc.$schema === "string" || (doc.type === "object" && isObj(doc.properties)));
/** True when a parsed JSON document is an Avro record schema. */
export const isAvroSchema = (doc: unknown): boolean => isObj(doc) && doc.type === "record" && Array.isArray(doc.fields);

const bounded = (lo: unknown, hi: unknown, defLo: number, defHi: number) => {
  const min = typeof lo === "number" ? lo : defLo;
  const max = typeof hi === "number" ? hi : Math.max(min, defHi);
  return { min, max };
};

/** A JSON Schema document as a dataset: its properties as fields, its `required` kept. */
export function fromJsonSchema(doc: unknown, name: string, source: string): InferredDataset {
  if (!isJsonSchema(doc) || !isObj((doc as Obj).properties)) fail(source, "a JSON Schema for infer describes an object: { type: object, properties: { … } }");
  const root = doc as Obj;
  const resolve = (node: unknown, where: string, depth: number): Obj => {
    if (depth > MAX_DEPTH) fail(where, `nests (or refers) more than ${MAX_DEPTH} levels deep`);
    if (!isObj(node)) fail(where, "must be a schema object");
    const ref = (node as Obj).$ref;
    if (typeof ref !== "string") return node as Obj;
    const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    const defs = m ? (root[m[1] as string] as Obj | undefined) : undefined;
    if (!m || !defs || !isObj(defs[m[2] as string])) fail(where, `$ref ${ref} is not a definition of this document (#/$defs/NAME or #/definitions/NAME)`);
    return resolve(defs?.[m?.[2] as string], where, depth + 1);
  };
  const objectFields = (node: Obj, where: string, depth: number): Record<string, FieldSpec> => {
    const required = new Set(Array.isArray(node.required) ? node.required.map(String) : []);
    const fields: Record<string, FieldSpec> = {};
    for (const [k, v] of Object.entries((node.properties as Obj | undefined) ?? {})) {
      const spec = field(k, v, `${where}.${k}`, depth + 1);
      fields[k] = required.has(k) || "null_probability" in spec ? spec : { ...spec, null_probability: OPTIONAL_NULLS };
    }
    return fields;
  };
  const field = (name: string, raw: unknown, where: string, depth: number): FieldSpec => {
    const node = resolve(raw, where, depth);
    const alternatives = (node.oneOf ?? node.anyOf) as unknown[] | undefined;
    if (Array.isArray(alternatives) && alternatives.length) {
      const real = alternatives.map((a) => resolve(a, where, depth + 1)).filter((a) => a.type !== "null");
      const spec = real.length ? field(name, real[0], where, depth + 1) : { const: null };
      return real.length < alternatives.length ? { ...spec, null_probability: OPTIONAL_NULLS } : spec;
    }
    if ("const" in node) return { const: node.const };
    if (Array.isArray(node.enum)) {
      const values = node.enum.filter((v) => v !== null);
      const spec: FieldSpec = values.length ? { choice: values } : { const: null };
      return values.length < node.enum.length ? { ...spec, null_probability: OPTIONAL_NULLS } : spec;
    }
    let type = node.type;
    let nullable = false;
    if (Array.isArray(type)) {
      nullable = type.includes("null");
      type = type.find((t) => t !== "null");
    }
    const spec = typed(name, node, String(type ?? (isObj(node.properties) ? "object" : "string")), where, depth);
    return nullable ? { ...spec, null_probability: OPTIONAL_NULLS } : spec;
  };
  const typed = (name: string, node: Obj, type: string, where: string, depth: number): FieldSpec => {
    switch (type) {
      case "string": {
        const formats: Record<string, FieldSpec> = {
          "date-time": { timestamp: "iso" },
          date: { timestamp: "date" },
          email: { faker: "internet.email" },
          uuid: { faker: "string.uuid" },
          uri: { faker: "internet.url" },
          ipv4: { faker: "internet.ipv4" },
          ipv6: { faker: "internet.ipv6" },
          hostname: { faker: "internet.domainName" },
        };
        const byFormat = typeof node.format === "string" ? formats[node.format] : undefined;
        if (byFormat) return byFormat;
        const { min, max } = bounded(node.minLength, node.maxLength, 1, 24);
        const spec = freeTextSpec(name, (min + max) / 2);
        // Letters and digits keep to the schema's lengths; a faker method by name may not.
        return typeof node.maxLength === "number" || typeof node.minLength === "number" ? { faker: { method: "string.alphanumeric", args: [{ length: { min, max } }] } } : spec;
      }
      case "integer":
      case "number": {
        const lo = typeof node.exclusiveMinimum === "number" ? node.exclusiveMinimum + (type === "integer" ? 1 : 0.01) : node.minimum;
        const hi = typeof node.exclusiveMaximum === "number" ? node.exclusiveMaximum - (type === "integer" ? 1 : 0.01) : node.maximum;
        const { min, max } = bounded(lo, hi, 0, 1000);
        return { number: { min, max, decimals: type === "integer" ? 0 : 2 } };
      }
      case "boolean":
        return { boolean: { probability: 0.5 } };
      case "array": {
        const { min, max } = bounded(node.minItems, node.maxItems, 0, 3);
        return { array: { min, max: Math.min(max, 1000), items: node.items === undefined ? { const: null } : field(name, node.items, `${where}[]`, depth + 1) } };
      }
      case "object":
        return { object: objectFields(node, where, depth) };
      case "null":
        return { const: null };
      default:
        return fail(where, `type "${type}" is not a JSON Schema type (string, integer, number, boolean, array, object, null)`);
    }
  };
  const required = Array.isArray(root.required) ? root.required.map(String).filter((k) => isObj(root.properties) && k in root.properties) : [];
  return {
    name,
    description: typeof root.description === "string" ? root.description : `Inferred by synthgen infer from the JSON Schema ${source}.`,
    ...(required.length ? { required } : {}),
    fields: objectFields(root, source, 0),
  };
}

/** An Avro record schema as a dataset: its fields in order, `["null", T]` unions as optional. */
export function fromAvro(doc: unknown, name: string, source: string): InferredDataset {
  if (!isAvroSchema(doc)) fail(source, 'an Avro schema for infer is a record: { "type": "record", "name": …, "fields": [ … ] }');
  const named = new Map<string, Obj>();
  const typeSpec = (fieldName: string, type: unknown, where: string, depth: number): FieldSpec => {
    if (depth > MAX_DEPTH) fail(where, `nests more than ${MAX_DEPTH} levels deep`);
    if (Array.isArray(type)) {
      const real = type.filter((t) => t !== "null");
      if (real.length === 0) return { const: null };
      const spec = typeSpec(fieldName, real[0], where, depth + 1);
      return real.length < type.length ? { ...spec, null_probability: OPTIONAL_NULLS } : spec;
    }
    if (typeof type === "string") {
      const known = named.get(type);
      if (known) return typeSpec(fieldName, known, where, depth + 1);
      switch (type) {
        case "string":
          return freeTextSpec(fieldName, 12);
        case "int":
          return { number: { min: 0, max: 1000, decimals: 0 } };
        case "long":
          return { number: { min: 0, max: 1_000_000, decimals: 0 } };
        case "float":
        case "double":
          return { number: { min: 0, max: 1000, decimals: 2 } };
        case "boolean":
          return { boolean: { probability: 0.5 } };
        case "bytes":
          return { faker: { method: "string.alphanumeric", args: [16] } };
        case "null":
          return { const: null };
        default:
          return fail(where, `type "${type}" is neither an Avro primitive nor a type named earlier in the schema`);
      }
    }
    if (!isObj(type)) return fail(where, "must be an Avro type");
    const t = type as Obj;
    if (typeof t.name === "string" && ["record", "enum", "fixed"].includes(String(t.type))) named.set(t.name, t);
    switch (t.logicalType) {
      case "timestamp-millis":
      case "local-timestamp-millis":
        return { timestamp: "epoch_ms" };
      case "date":
        return { timestamp: "date" };
      case "uuid":
        return { faker: "string.uuid" };
      case "decimal":
        return { number: { min: 0, max: 1000, decimals: typeof t.scale === "number" ? Math.min(6, t.scale) : 2 } };
    }
    switch (t.type) {
      case "record": {
        if (!Array.isArray(t.fields)) fail(where, "a record needs fields");
        const fields: Record<string, FieldSpec> = {};
        for (const f of t.fields as Obj[]) {
          if (!isObj(f) || typeof f.name !== "string") fail(where, "each field needs a name and a type");
          fields[f.name as string] = typeSpec(f.name as string, f.type, `${where}.${String(f.name)}`, depth + 1);
        }
        return { object: fields };
      }
      case "enum":
        if (!Array.isArray(t.symbols) || t.symbols.length === 0) fail(where, "an enum needs symbols");
        return { choice: (t.symbols as unknown[]).map(String) };
      case "array":
        return { array: { min: 0, max: 3, items: typeSpec(fieldName, t.items, `${where}[]`, depth + 1) } };
      case "map":
        return { object: {} };
      case "fixed":
        return { faker: { method: "string.alphanumeric", args: [typeof t.size === "number" ? Math.min(256, t.size) : 16] } };
      default:
        return typeSpec(fieldName, t.type, where, depth + 1);
    }
  };
  const root = typeSpec(name, doc, source, 0) as { object: Record<string, FieldSpec> };
  const d = doc as Obj;
  return { name, description: typeof d.doc === "string" ? d.doc : `Inferred by synthgen infer from the Avro schema ${source}.`, fields: root.object };
}
