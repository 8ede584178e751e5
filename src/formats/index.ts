import { ValidationError } from "../core/errors";
import { DIRTY_KINDS, type DirtyKind, type DirtyRates } from "../records/dirty";

/** Object formats. `ndjson` is the seed's contract and the default: its bytes and keys never change. */
export const FORMATS = ["ndjson", "ndjson.gz", "csv", "csv.gz", "parquet"] as const;
export type Format = (typeof FORMATS)[number];

export const PARQUET_CODECS = ["snappy", "gzip", "zstd", "uncompressed"] as const;
export type ParquetCodec = (typeof PARQUET_CODECS)[number];

/** zstd is compressed by Node's own zlib, from Node.js 22.15 on (Lambda's nodejs22.x has it). */
export const zstdCompressSync = (require("node:zlib") as { zstdCompressSync?: (input: Uint8Array) => Buffer }).zstdCompressSync;

/** How each format is named and served: the key's extension and the object's HTTP headers. */
export interface FormatInfo {
  readonly extension: string;
  readonly contentType: string;
  /** Set for gzip: the stored bytes are the gzip of a text of `contentType`. */
  readonly contentEncoding?: "gzip";
}

export const FORMAT_INFO: Readonly<Record<Format, FormatInfo>> = {
  ndjson: { extension: ".ndjson", contentType: "application/x-ndjson" },
  "ndjson.gz": { extension: ".ndjson.gz", contentType: "application/x-ndjson", contentEncoding: "gzip" },
  csv: { extension: ".csv", contentType: "text/csv; header=present" },
  "csv.gz": { extension: ".csv.gz", contentType: "text/csv; header=present", contentEncoding: "gzip" },
  parquet: { extension: ".parquet", contentType: "application/vnd.apache.parquet" },
};

/**
 * Dirty kinds a format cannot hold: a CSV row has no column for an extra `_oversize` field; a
 * Parquet column is typed and its rows are not lines, so it holds neither a cut line, a value of
 * the wrong type, nor an extra field. Asked for anyway, the request is refused (nothing written).
 */
const DIRT_NOT_HELD: Readonly<Record<Format, readonly DirtyKind[]>> = {
  ndjson: [],
  "ndjson.gz": [],
  csv: ["oversize"],
  "csv.gz": ["oversize"],
  parquet: ["malformed", "wrong_type", "oversize"],
};

/** The `format` field (and `parquet_codec`), checked against the dirty kinds asked for. */
export function parseFormat(value: unknown, dirty: DirtyRates | undefined): Format {
  const format = value ?? "ndjson";
  if (typeof format !== "string" || !(FORMATS as readonly string[]).includes(format)) {
    throw new ValidationError("format", `format must be one of ${FORMATS.join(", ")} (got ${JSON.stringify(format)})`);
  }
  const refused = DIRT_NOT_HELD[format as Format].filter((k) => (dirty?.[k] ?? 0) > 0);
  if (refused.length > 0) {
    throw new ValidationError("dirty", `dirty ${refused.join(", ")} cannot be written as ${format}; kinds ${format} holds: ${dirtHeld(format as Format).join(", ")}`);
  }
  return format as Format;
}

export function parseParquetCodec(value: unknown): ParquetCodec {
  const codec = value ?? "snappy";
  if (typeof codec !== "string" || !(PARQUET_CODECS as readonly string[]).includes(codec)) {
    throw new ValidationError("parquet_codec", `parquet_codec must be one of ${PARQUET_CODECS.join(", ")} (got ${JSON.stringify(codec)})`);
  }
  if (codec === "zstd" && zstdCompressSync === undefined) {
    throw new ValidationError(
      "parquet_codec",
      `parquet_codec zstd needs Node.js 22.15 or later, whose zlib compresses zstd (this is ${process.version}; Lambda's nodejs22.x has it); here use snappy, gzip or uncompressed`,
    );
  }
  return codec as ParquetCodec;
}

export function dirtHeld(format: Format): string[] {
  return DIRTY_KINDS.filter((k) => !DIRT_NOT_HELD[format].includes(k));
}
