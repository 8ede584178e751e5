/**
 * Objects a fan-out's last step reads at once (the manifest step its shard results, the report
 * step its cell summaries): a 10,000-shard run must not open 10,000 requests.
 */
export const READS_IN_FLIGHT = 32;

/** `work` over every item, at most `limit` at a time, results in item order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
