/** The operator-facing files in docs/observability as the tests read them: the alert rules, the dashboard and its queries, the runbook, and promtool. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

const root = resolve(__dirname, '../../../..');
export const docsDir = join(root, 'docs/observability');
const rulesFile = join(docsDir, 'prometheus-alerts.yaml');
export const rulesTestFile = join(docsDir, 'prometheus-alerts.test.yaml');
const dashboardFile = join(docsDir, 'grafana-dashboard.json');
export const runbookFile = join(root, 'docs/observability.md');

type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
type Target = {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
};
type Panel = {
  id: number;
  type: string;
  title?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
};
export type Dashboard = {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: {
      name: string;
      type: string;
      query?: string | { query: string };
      datasource?: { type?: string; uid?: string };
    }[];
  };
  [key: string]: unknown;
};

export const rules: Rule[] = parseYaml(
  readFileSync(rulesFile, 'utf8'),
).groups.flatMap((group: { rules: Rule[] }) => group.rules);
export const alerts = rules.filter(rule => rule.alert);
export const dashboard: Dashboard = JSON.parse(
  readFileSync(dashboardFile, 'utf8'),
);
export const allPanels = dashboard.panels.flatMap(panel => [
  panel,
  ...(panel.panels ?? []),
]);
export const queryPanels = allPanels.filter(panel => panel.type !== 'row');

/** Grafana's interval macros and the job variable, as Prometheus would get them. */
function asPromQL(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{?job\}?/g, '.+');
}

/** Every PromQL expression in the dashboard, with where it is. */
export function dashboardQueries(): { where: string; expr: string }[] {
  const queries = queryPanels.flatMap(panel =>
    (panel.targets ?? []).map(target => ({
      where: `panel "${panel.title}" query ${target.refId}`,
      expr: asPromQL(target.expr ?? ''),
    })),
  );
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query =
      typeof variable.query === 'string'
        ? variable.query
        : variable.query?.query ?? '';
    // label_values(selector, label) is Grafana's, not PromQL: its selector is.
    const labelValues = /^label_values\((.*),\s*(\w+)\)$/.exec(query);
    queries.push({
      where: `variable ${variable.name}`,
      expr: labelValues ? labelValues[1] : query,
    });
  }
  return queries;
}

export function runPromtool(args: string[], cwd: string) {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return {
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}`,
  };
}

export const promtoolMissing =
  spawnSync('promtool', ['--version']).error !== undefined;

/** `it` where promtool can run; elsewhere skipped (alertRules.test.ts says why, and fails in CI). */
export const withPromtool = promtoolMissing ? it.skip : it;
