import { gzipSync } from "node:zlib";
import { ByteWriter, ParquetWriter, type SchemaElement } from "hyparquet-writer";
import type { ParquetCodec } from ".";
import { columnNames, type Column, type ColumnType } from "./columns";

const CODEC = { snappy: "SNAPPY", gzip: "GZIP", uncompressed: "UNCOMPRESSED" } as const;

/** A column's Parquet schema elements (a struct: its group, then its children's), all nullable. */
function elements(column: Column): SchemaElement[] {
  const t = column.type;
  const optional = { name: column.name, repetition_type: "OPTIONAL" } as const;
  if (typeof t === "object") return [{ ...optional, num_children: t.struct.length }, ...t.struct.flatMap(elements)];
  switch (t) {
    case "string":
      return [{ ...optional, type: "BYTE_ARRAY", converted_type: "UTF8" }];
    case "json":
      return [{ ...optional, type: "BYTE_ARRAY", converted_type: "JSON" }];
    case "int":
      return [{ ...optional, type: "INT64" }];
    case "double":
      return [{ ...optional, type: "DOUBLE" }];
    case "boolean":
      return [{ ...optional, type: "BOOLEAN" }];
    case "timestamp":
      return [{ ...optional, type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } }];
  }
}

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;

/** A JSON value as its column stores it; a value the column cannot hold is a bug and throws, naming it. */
function convert(value: unknown, type: ColumnType, where: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof type === "object") {
    if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${where}: ${JSON.stringify(value)} is not an object`);
    const out: Record<string, unknown> = {};
    for (const c of type.struct) out[c.name] = convert((value as Record<string, unknown>)[c.name], c.type, `${where}.${c.name}`);
    return out;
  }
  switch (type) {
    case "json":
      return value;
    case "string":
      if (typeof value === "string") return value;
      break;
    case "boolean":
      if (typeof value === "boolean") return value;
      break;
    case "double":
      if (typeof value === "number") return value;
      break;
    case "int":
      if (Number.isSafeInteger(value)) return BigInt(value as number);
      break;
    case "timestamp": {
      const m = typeof value === "string" ? ISO.exec(value) : null;
      if (m) return BigInt(Date.parse(`${m[1]}Z`)) * 1000n + BigInt((m[2] ?? "").padEnd(6, "0"));
      break;
    }
  }
  throw new Error(`${where}: ${JSON.stringify(value)} does not fit its ${type} column`);
}

/**
 * A Parquet file written row group by row group: `rowGroup` takes records (as JSON lines) and
 * returns the bytes that group added, so no more than one row group is held at a time. Column
 * statistics are kept; the writer is hyparquet-writer.
 */
export class ParquetRowGroups {
  private readonly writer = new ByteWriter();
  private readonly parquet: ParquetWriter;
  private readonly known: ReadonlySet<string>;
  private pending: unknown[][];

  constructor(
    private readonly columns: readonly Column[],
    codec: ParquetCodec,
    private readonly dataset: string,
  ) {
    const schema: SchemaElement[] = [{ name: "root", num_children: columns.length }, ...columns.flatMap(elements)];
    this.known = columnNames(columns);
    this.pending = columns.map(() => []);
    this.parquet = new ParquetWriter({
      writer: this.writer,
      schema,
      codec: CODEC[codec],
      compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
      createdBy: "synthgen",
    });
  }

  /** Bytes written so far: everything handed out plus what is waiting. */
  get stored(): number {
    return this.writer.offset;
  }

  /**
   * Adds one record (a JSON line) to the row group being built: its values go straight into the
   * columns, so neither the line nor the parsed record outlives this call.
   */
  add(line: string, index: number): void {
    const record = JSON.parse(line) as Record<string, unknown>;
    for (const k in record) if (!this.known.has(k)) throw new Error(`${this.dataset}: a record has field "${k}", which its columns do not declare`);
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i] as Column;
      (this.pending[i] as unknown[]).push(convert(record[c.name], c.type, `${this.dataset} record ${index}, ${c.name}`));
    }
  }

  /** Writes the records added so far as one row group; returns the bytes it added (the magic number first). */
  rowGroup(): Buffer {
    const rows = (this.pending[0] as unknown[]).length;
    void this.parquet.write({
      columnData: this.columns.map((c, i) => ({ name: c.name, data: this.pending[i] as unknown[] })) as never,
      rowGroupSize: Math.max(1, rows),
    });
    this.pending = this.columns.map(() => []);
    return this.take();
  }

  /** The footer (schema, row groups, statistics) and the closing magic number. */
  finish(): Buffer {
    void this.parquet.finish();
    return this.take();
  }

  private take(): Buffer {
    const bytes = Buffer.from(new Uint8Array(this.writer.buffer, 0, this.writer.index));
    this.writer.index = 0;
    return bytes;
  }
}
