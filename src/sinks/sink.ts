import type { PlannedFile } from "../plan";
import type { RenderStats } from "../render";

/** An S3 bucket (AWS, or any S3-compatible endpoint such as the embedded s3rver). */
export interface S3SinkSpec {
  readonly kind: "s3";
  readonly bucket: string;
  /** Custom endpoint URL; path-style addressing is used with it. */
  readonly endpoint?: string;
  readonly region?: string;
}

/** A folder on the local disk; keys become relative paths inside it. */
export interface LocalSinkSpec {
  readonly kind: "local";
  readonly dir: string;
}

/** Where a run writes: plain data, so it crosses into worker threads. */
export type SinkSpec = S3SinkSpec | LocalSinkSpec;

/** Writes whole files. A file either arrives complete under its key or not at all. */
export interface FileSink {
  write(file: PlannedFile): Promise<RenderStats>;
  /**
   * The stats of the file if it is already there, complete and from this run identity (for
   * resuming a run); undefined when it is missing or is not this file.
   */
  existing(file: PlannedFile): Promise<RenderStats | undefined>;
  /** Small JSON documents beside the data: shard results and run manifests. */
  putJson(key: string, value: unknown): Promise<void>;
  getJson(key: string): Promise<unknown>;
  /** An object's text, or undefined when there is none. */
  getText(key: string): Promise<string | undefined>;
  remove(key: string): Promise<void>;
}

/** The `bucket` and `s3_uri` a response shows for a sink (a local folder reads as `file://`). */
export function sinkLocation(spec: SinkSpec): { bucket: string; uri(key: string): string } {
  if (spec.kind === "s3") return { bucket: spec.bucket, uri: (key) => `s3://${spec.bucket}/${key}` };
  return { bucket: spec.dir, uri: (key) => `file://${spec.dir}/${key}` };
}
