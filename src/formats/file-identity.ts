import type { DirtyCounts } from "../records/dirty";
import type { RecordIdentity } from "../records/record-source";
import type { Format, ParquetCodec } from ".";

/** Everything that decides the bytes of one file — and nothing else does. */
export interface FileIdentity extends RecordIdentity {
  readonly targetBytes: number;
  /** The object format; absent means NDJSON (the seed's bytes, unchanged). */
  readonly format?: Format;
  /** Parquet's compression codec (snappy when absent). */
  readonly parquetCodec?: ParquetCodec;
}

/** Filled in while the chunks are consumed; final once the iterator is exhausted. */
export interface RenderStats {
  bytes: number;
  records: number;
  /** Hex SHA-256 of all bytes; empty until the last chunk has been taken. */
  sha256: string;
  /** Dirty records injected, by kind (only when the file asked for dirt). */
  dirty?: DirtyCounts;
  /** Formats other than NDJSON: the bytes before compression (see formats/encode.ts). */
  uncompressedBytes?: number;
}

export interface RenderedFile {
  readonly chunks: Iterable<Buffer>;
  readonly stats: RenderStats;
}
