/** `synthgen verify` flags, as commander hands them over. */
export interface VerifyFlags {
  output: string;
  endpoint?: string;
  manifest?: string;
  dataset?: string;
  scenario?: string;
  files?: string;
  sizeMb?: string;
  date?: string;
  seed?: string;
  runId?: string;
  from?: string;
  to?: string;
  partition?: string;
  dailyCurve?: boolean;
  format?: string;
  parquetCodec?: string;
  dirty?: string;
  key?: string;
  map?: string;
  drop?: string;
  ignore?: string;
  require?: string;
  expect?: string;
  examples?: string;
  junit?: string;
  threads?: string;
  precision?: string;
  /** An index run: what `synthgen index` printed (its index, seed, hours and last hour). */
  indexReport?: string;
  table?: string;
  /** An emit run: its report, or the flags emit took. */
  emitReport?: string;
  streams?: string;
  eventsPerStream?: string;
  weights?: string;
  skew?: string;
  idempotencyField?: string;
  sentField?: string;
  arrivalField?: string;
  inOrder?: boolean;
}
