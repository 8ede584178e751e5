/** An index run's hours of history. Apart from the request's parsing so the CLI's help can name them without loading it. */
export const INDEX_LIMITS = Object.freeze({ MIN_HOURS: 1, MAX_HOURS: 8784 });

/** The original generator's index; documents for one hour of 20 merchants per scheduled run. */
export const INDEX_DEFAULTS = Object.freeze({ index: "pp-merchantai", hours: 1, seed: 1 });
