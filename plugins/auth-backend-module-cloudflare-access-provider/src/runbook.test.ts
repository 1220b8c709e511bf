/** docs/observability.md: every alert has its own runbook heading, linked from the alerts table, and every link resolves. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { alerts, runbookFile } from './__testUtils__/observability';

describe('the runbook', () => {
  const doc = readFileSync(runbookFile, 'utf8');
  const lines = doc.split('\n');
  // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
  const slug = (heading: string) =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
  const headings = (text: string[]) =>
    text
      .filter(line => /^#{1,6} /.test(line))
      .map(line => line.replace(/^#+ /, ''));
  const start = lines.indexOf('## Alerts');
  const end = lines.findIndex((line, n) => n > start && /^## /.test(line));
  const alertsSection = lines.slice(start, end === -1 ? undefined : end);

  it.each(alerts.map(rule => [rule.alert!, rule] as const))(
    "%s's runbook_url points to its own heading under ## Alerts, and the table links it",
    (alert, rule) => {
      expect(lines).toContain('## Alerts');
      const anchor = slug(alert);
      expect(rule.annotations?.runbook_url).toBe(
        `docs/observability.md#${anchor}`,
      );
      expect(headings(alertsSection)).toContain(alert);
      expect(alertsSection).toContainEqual(
        expect.stringMatching(
          new RegExp(`^\\| \\[${alert}\\]\\(#${anchor}\\) \\|`),
        ),
      );
    },
  );

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const [, target] of doc.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const file = path ? resolve(dirname(runbookFile), path) : runbookFile;
      if (!existsSync(file)) {
        broken.push(target);
      } else if (anchor && file.endsWith('.md')) {
        const anchors = headings(readFileSync(file, 'utf8').split('\n')).map(
          slug,
        );
        if (!anchors.includes(anchor)) broken.push(target);
      }
    }
    expect(broken).toEqual([]);
  });
});
