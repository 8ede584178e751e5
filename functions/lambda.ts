import { CapacityError, ValidationError } from "../src/core/errors";

/** The Lambda context fields the handlers use. */
export interface LambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** One JSON line per entry, so CloudWatch Logs Insights and metric filters can read the fields. */
export function log(level: "info" | "error", message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}

/** Time kept back from a run's budget to log the summary and return before Lambda's timeout. */
export const RESPONSE_MARGIN_MS = 2000;

/**
 * Runs a handler's request step: bad input (or a run that cannot fit in its time) becomes a 400
 * response naming the field, logged as "request rejected"; anything else propagates.
 */
export async function rejectingBadInput<T>(work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; response: BadRequest }> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    if (err instanceof ValidationError || err instanceof CapacityError) {
      log("error", "request rejected", { field: err.field, error: err.message });
      return { ok: false, response: { statusCode: 400, body: { status: "error", field: err.field, error: err.message } } };
    }
    throw err;
  }
}

export interface BadRequest {
  readonly statusCode: 400;
  readonly body: { readonly status: "error"; readonly field: string; readonly error: string };
}
