/** Reads Prometheus's text format, as a scrape returns it: enough for tests to check what was counted. */

/** Every sample of a scrape, by its series (name and labels, as printed). */
export type Scrape = Map<string, number>;

export function parseScrape(text: string): Scrape {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (match) {
      samples.set(match[1], Number(match[2]));
    }
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
export function total(
  scrape: Scrape,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const [series, value] of scrape) {
    if (
      series.split('{')[0] === name &&
      Object.entries(labels).every(([key, wanted]) =>
        series.includes(`${key}="${wanted}"`),
      )
    ) {
      sum += value;
    }
  }
  return sum;
}
