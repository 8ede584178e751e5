/** Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB. */
export const MB_PER_VCPU = 1769;

/** CPU share a function gets: its memory's vCPUs, never more than the machine's cores. */
export function vcpusFor(memoryMb: number, cores: number): number {
  return Math.min(cores, memoryMb / MB_PER_VCPU);
}
