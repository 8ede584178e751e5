import type { RunFlags } from "./generate-options";

/** `synthgen verify` flags, as commander hands them over: a generate run's own flags, and verify's. */
export interface VerifyFlags extends RunFlags {
  output: string;
  endpoint?: string;
  manifest?: string;
  scenario?: string;
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
