import { ValidationError } from "../src/core/errors";
import { sinkFor } from "../src/sinks";
import { parseDestination } from "./generate-options";

/**
 * A run's document that verify is given (a run manifest, an emit report): a local file, or an
 * object at `s3://bucket/key` (with `endpoint` for an S3-compatible server). At most `maxBytes`
 * are read: a larger one is refused without being read whole, as is one that is not there.
 */
export async function readRunDocument(field: string, flag: string, path: string, maxBytes: number, endpoint: string | undefined, what: string): Promise<string> {
  let text: string | undefined;
  if (path.startsWith("s3://")) {
    // The key as given: a manifest sits under _manifests/, which a destination may not name.
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(path);
    if (!m) throw new ValidationError(field, `${flag} must be a file or an s3://bucket/key object (got "${path}")`);
    const at = parseDestination(`s3://${m[1]}/`, endpoint);
    const key = m[2] as string;
    // One byte past the limit says the object is larger.
    text = await sinkFor(at.sink).getText(key, maxBytes);
    if (text === undefined) throw new ValidationError(field, `${flag} ${path}: no such object`);
  } else {
    const { readText } = require("../src/sinks/local") as typeof import("../src/sinks/local");
    text = await readText(path, maxBytes).catch((err: NodeJS.ErrnoException) => {
      throw new ValidationError(field, `${flag} ${path}: cannot read it (${err.code ?? err.message})`);
    });
  }
  if (Buffer.byteLength(text) > maxBytes) throw new ValidationError(field, `${flag} ${path}: larger than ${maxBytes} bytes, not ${what}`);
  return text;
}
