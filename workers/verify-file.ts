import { type ExpectTask, expectFile, type FileExpectation } from "../src/verify/expected";

/** piscina task: one generated file's records recomputed for `synthgen verify`; returns hashes and keys, never the data. */
export default function verifyFile(task: ExpectTask): FileExpectation {
  return expectFile(task.file, task.comparison);
}
