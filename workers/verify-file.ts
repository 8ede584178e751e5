import { sinkFor } from "../src/sinks";
import type { SinkSpec } from "../src/sinks/sink";
import { type DigestTask, digestObjects } from "../src/verify/digest";
import { type ExpectTask, expectFile, type FileExpectation } from "../src/verify/expected";

/**
 * piscina task of `synthgen verify`: one generated file's records recomputed (their hashes and
 * keys), or one output object digested (its rows' keys and field hashes, encoded); never the data.
 */
export default async function verifyFile(task: ExpectTask | (DigestTask & { readonly sink: SinkSpec })): Promise<FileExpectation | Uint8Array> {
  if ("digest" in task) return digestObjects(sinkFor(task.sink), [task.digest], task.comparison, task.outName, task.required, task.events, task.lines);
  return expectFile(task.file, task.comparison, task.how);
}
