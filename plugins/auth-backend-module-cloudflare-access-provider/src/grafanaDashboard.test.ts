/**
 * The Grafana dashboard in docs/observability: Grafana's published schema,
 * its data source variable, its layout, and queries that promtool parses and
 * that name only the contract's metrics, every metric shown.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { grafanaSchemaErrors } from './__testUtils__/grafanaSchema';
import {
  ALL_LABELS,
  contractProblems,
  METRICS,
  promqlNames,
} from './__testUtils__/metricsContract';
import {
  allPanels,
  Dashboard,
  dashboard,
  dashboardQueries,
  queryPanels,
  runPromtool,
  withPromtool,
} from './__testUtils__/observability';

// @grafana/schema leaves queries open: these are the Prometheus query's
// fields (its DataQuery), so a misspelt one is caught here.
const PROMETHEUS_QUERY_FIELDS = new Set([
  'adhocFilters',
  'datasource',
  'editorMode',
  'exemplar',
  'expr',
  'format',
  'groupByKeys',
  'hide',
  'instant',
  'interval',
  'intervalFactor',
  'intervalMs',
  'legendFormat',
  'maxDataPoints',
  'queryType',
  'range',
  'refId',
  'resultAssertions',
  'scopes',
  'timeRange',
]);

describe('promtool', () => {
  withPromtool('parses every dashboard query as PromQL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfaccess-dashboard-'));
    try {
      const queries = dashboardQueries();
      const file = join(dir, 'dashboard-queries.yaml');
      writeFileSync(
        file,
        stringifyYaml({
          groups: [
            {
              name: 'dashboard',
              rules: queries.map(({ expr }, n) => ({
                record: `dashboard:query_${n}`,
                expr,
              })),
            },
          ],
        }),
      );
      const { status, output } = runPromtool(['check', 'rules', file], dir);
      expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the dashboard', () => {
  it('is the classic model with its own uid and a data source variable', () => {
    expect(dashboard.uid).toBe('cfaccess-signin');
    expect(dashboard.title).toBe('Backstage sign-in through Cloudflare Access');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({
        name: 'datasource',
        type: 'datasource',
        query: 'prometheus',
      }),
    );
  });

  it('names no data source uid but the variable', () => {
    const refs: { type?: string; uid?: string }[] = [];
    const walk = (value: unknown, key?: string) => {
      if (Array.isArray(value)) value.forEach(item => walk(item));
      else if (value && typeof value === 'object') {
        if (key === 'datasource') refs.push(value as (typeof refs)[number]);
        for (const [k, v] of Object.entries(value)) walk(v, k);
      }
    };
    walk(dashboard);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      // Grafana's own annotations are the one built-in source.
      if (ref.type === 'grafana') expect(ref.uid).toBe('-- Grafana --');
      else expect(ref).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    for (const panel of queryPanels) {
      expect(panel.datasource).toBeDefined();
      for (const target of panel.targets ?? []) {
        expect(target.datasource).toBeDefined();
      }
    }
  });

  it("has Prometheus queries in the Prometheus data source's own fields", () => {
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        expect(target.expr).toMatch(/\S/);
        expect(
          Object.keys(target).filter(key => !PROMETHEUS_QUERY_FIELDS.has(key)),
        ).toEqual([]);
      }
    }
  });

  it('has unique panel ids and query refs, and panels inside the grid that do not overlap', () => {
    const ids = allPanels.map(panel => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of queryPanels) {
      const refs = (panel.targets ?? []).map(target => target.refId);
      expect(refs.length).toBeGreaterThan(0);
      expect(new Set(refs).size).toBe(refs.length);
    }
    const boxes = allPanels.map(panel => ({
      title: panel.title,
      ...panel.gridPos,
    }));
    for (const [n, a] of boxes.entries()) {
      expect(a.x + a.w).toBeLessThanOrEqual(24);
      for (const b of boxes.slice(n + 1)) {
        const overlap =
          a.x < b.x + b.w &&
          b.x < a.x + a.w &&
          a.y < b.y + b.h &&
          b.y < a.y + a.h;
        expect({ a: a.title, b: b.title, overlap }).toEqual({
          a: a.title,
          b: b.title,
          overlap: false,
        });
      }
    }
  });

  it('queries only the contract metrics and labels, and shows every metric', () => {
    const queries = dashboardQueries();
    const problems = queries.flatMap(({ where, expr }) =>
      contractProblems(expr).map(problem => `${where}: ${problem}`),
    );
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        for (const [, label] of (target.legendFormat ?? '').matchAll(
          /\{\{\s*(\w+)\s*\}\}/g,
        )) {
          if (!ALL_LABELS.has(label)) {
            problems.push(`panel "${panel.title}": legend label ${label}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    const shown = new Set(
      queries.flatMap(({ expr }) =>
        promqlNames(expr).selectors.map(selector => selector.metric),
      ),
    );
    const unshown = Object.keys(METRICS).filter(
      name => !shown.has(name) && !/_(sum|count)$/.test(name),
    );
    expect(unshown).toEqual([]);
  });

  it("matches Grafana's dashboard schema (@grafana/schema), with each panel's options", () => {
    expect(grafanaSchemaErrors(dashboard)).toEqual([]);
  }, 120_000);
});
describe('the checks themselves', () => {
  it('find what the Grafana schema rejects', () => {
    const broken = JSON.parse(JSON.stringify(dashboard)) as Dashboard;
    const timeseries = broken.panels.find(p => p.type === 'timeseries')!;
    const stat = broken.panels.find(p => p.type === 'stat')!;
    (timeseries as any).gridpos = timeseries.gridPos;
    (timeseries.options as any).legend.placement = 'sideways';
    (stat.options as any).colorMode = 'rainbow';
    (broken as any).graphTooltip = 'shared';
    const errors = grafanaSchemaErrors(broken);
    expect(errors.join('\n')).toMatch(/gridpos/);
    expect(errors.join('\n')).toMatch(/sideways/);
    expect(errors.join('\n')).toMatch(/rainbow/);
    expect(errors.join('\n')).toMatch(/graphTooltip/);
  }, 120_000);
});
