/** ISO-8601 times made without a `Date` for each: for the schema language and the built-in datasets. */

/** `YYYY-MM-DDT` of each day seen, by its number since the epoch: a run's times share a few days. */
const DAY_TEXT = new Map<number, string>();
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
/**
 * `HH:MM:` by minute of the day and `SS.` by second: joined, `HH:MM:SS.` is short enough to be made
 * flat (under 13 characters), one piece of a record's text (see flatText).
 */
export const MINUTES: readonly string[] = Array.from({ length: 1440 }, (_, m) => `${TWO_DIGITS[Math.floor(m / 60)]}:${TWO_DIGITS[m % 60]}:`);
export const SECONDS: readonly string[] = TWO_DIGITS.slice(0, 60).map((s) => `${s}.`);
/** `mmmZ` by millisecond. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, "0")}Z`);
const DAY_MS = 86_400_000;

/** `new Date(ms).toISOString()`, without a Date for each time of years 1970–9999. */
export function isoOfMs(ms: number): string {
  if (!(ms >= 0 && ms < 253_402_300_800_000) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let date = DAY_TEXT.get(day);
  if (date === undefined) {
    date = `${new Date(day * DAY_MS).toISOString().slice(0, 10)}T`;
    if (DAY_TEXT.size > 4096) DAY_TEXT.clear();
    DAY_TEXT.set(day, date);
  }
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  // Three pieces: a record's text is flattened by the piece when it is written (see flatText).
  return date + ((MINUTES[rest] as string) + (SECONDS[sec] as string)) + (MILLIS[milli] as string);
}
