/**
 * Names of the built-in datasets and the little validation needs to know about them. Kept apart
 * from their implementations so validation (in a handler's main thread) loads neither faker nor
 * the string pools; only the code that generates records does.
 */
export const DATASET_NAMES: readonly string[] = ["web-events", "tutoring-events", "merchant-metrics"];

/** Event types of `tutoring-events`, in the original simulator's order. */
export const TUTORING_EVENT_TYPES: readonly string[] = ["session_started", "session_completed", "ib_call_logged", "tutor_availability_updated", "customer_health_update", "supply_demand_update"];

/** Datasets whose mix of event types a request may weight, with their types. */
export const WEIGHTABLE_EVENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  "tutoring-events": TUTORING_EVENT_TYPES,
};
