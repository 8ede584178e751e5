import { writeFile, type FileTask, type FileResult } from "../src/files/write-file";

/** piscina task: one planned file into its sink; returns a summary, never the data. */
export default function generateFile(task: FileTask): Promise<FileResult> {
  return writeFile(task);
}
