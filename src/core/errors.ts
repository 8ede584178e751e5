/** Bad input at the edge (event, CLI flag, stack config): names the field and what is allowed. */
export class ValidationError extends Error {
  override readonly name = "ValidationError";

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A run that cannot finish in the time it has; the message says what to change. */
export class CapacityError extends Error {
  override readonly name = "CapacityError";

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Some files of a run were not written. Thrown after the summary (with every failed key) is
 * logged, so Lambda's Errors metric, retries and the DLQ count the invocation.
 */
export class RunFailedError extends Error {
  override readonly name = "RunFailedError";
}
