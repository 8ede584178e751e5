import { readFileSync } from "node:fs";

/**
 * This process's peak resident memory in MiB: the kernel's high-water mark of its own memory
 * (`VmHWM`). Not `process.resourceUsage().maxRSS`: on Linux a process's maxrss starts at what its
 * parent held when it forked (the forked image's pages are recorded at exec), so a bench child
 * started while the bench itself was large reported the bench's size, not its own.
 */
export function peakRssMb(): number {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // Not Linux: the resource usage's figure.
  }
  return process.resourceUsage().maxRSS / 1024;
}
