/** `synthgen emit` flags, as commander hands them over (strings until validated). */
export interface EmitFlags {
  to?: string;
  endpoint?: string;
  dataset?: string;
  streams?: string;
  eventsPerStream?: string;
  rate?: string;
  seed?: string;
  runId?: string;
  weights?: string;
  maxFailedRatio?: string;
  timeoutMs?: string;
  dirty?: string;
  scenario?: string;
  date?: string;
  shape?: string;
  arrivals?: string;
  skew?: string;
  duration?: string;
  targetQuota?: string;
  /** Print the emit fan-out's plan for this request instead of sending. */
  plan?: boolean;
  memoryMb?: string;
  timeoutS?: string;
  maxEmitters?: string;
  kinesisShards?: string;
  architecture?: string;
}
