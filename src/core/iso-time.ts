/** ISO-8601 times made without a `Date` for each: for the schema language and the built-in datasets. */

/** `YYYY-MM-DD` of each day seen, by its number since the epoch: a run's times share a few days. */
const DAY_TEXT = new Map<number, string>();
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const DAY_MS = 86_400_000;

/** `new Date(ms).toISOString()`, without a Date for each time of years 1970–9999. */
export function isoOfMs(ms: number): string {
  if (!(ms >= 0 && ms < 253_402_300_800_000) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let date = DAY_TEXT.get(day);
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (DAY_TEXT.size > 4096) DAY_TEXT.clear();
    DAY_TEXT.set(day, date);
  }
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  return `${date}T${TWO_DIGITS[hour]}:${TWO_DIGITS[min]}:${TWO_DIGITS[sec]}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}
