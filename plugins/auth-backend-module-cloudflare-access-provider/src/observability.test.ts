/**
 * The operator-facing files in docs/observability: the alert rules and their
 * unit tests run through Prometheus's own promtool, the dashboard checked
 * against Grafana's published dashboard schema, every query against the
 * metrics contract, and every alert against its runbook heading.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

const root = resolve(__dirname, '../../..');
const docsDir = join(root, 'docs/observability');
const rulesFile = join(docsDir, 'prometheus-alerts.yaml');
const rulesTestFile = join(docsDir, 'prometheus-alerts.test.yaml');
const dashboardFile = join(docsDir, 'grafana-dashboard.json');
const runbookFile = join(root, 'docs/observability.md');

// The metrics contract: each metric as Prometheus stores it, with the values
// of each closed label; 'open' labels take any value (refusal reasons grow
// with the code).
const OPEN = 'open';
type LabelValues = readonly string[] | typeof OPEN;
const IDENTITY_OUTCOMES = [
  'ok',
  'ended',
  'refused',
  'unusable',
  'timeout',
  'error',
];
const HISTOGRAM_LABELS = { cfaccess_outcome: IDENTITY_OUTCOMES };
const METRICS: Record<string, Record<string, LabelValues>> = {
  cfaccess_sign_ins_total: {
    cfaccess_outcome: ['signed_in', 'refused', 'degraded'],
    cfaccess_reason: OPEN,
    cfaccess_principal: ['person', 'service_token', 'provisioned', 'unknown'],
  },
  cfaccess_get_identity_calls_total: HISTOGRAM_LABELS,
  cfaccess_get_identity_duration_bucket: {
    ...HISTOGRAM_LABELS,
    le: OPEN,
  },
  cfaccess_get_identity_duration_sum: HISTOGRAM_LABELS,
  cfaccess_get_identity_duration_count: HISTOGRAM_LABELS,
  cfaccess_keys_fetches_total: { cfaccess_outcome: ['ok', 'error'] },
  cfaccess_keys_age: {},
  cfaccess_cache_reads_total: {
    cfaccess_cache_layer: ['memory', 'shared'],
    cfaccess_cache_result: ['hit', 'miss', 'rejected', 'unavailable'],
  },
  cfaccess_cache_circuit_open: {},
  cfaccess_provisioned_users: {},
  cfaccess_provisioned_groups: {},
  cfaccess_provisioned_users_created_total: {},
  cfaccess_provisioned_handovers_total: {},
  cfaccess_provisioned_removals_total: {
    cfaccess_entity_kind: ['user', 'group'],
  },
};
const SCRAPE_LABELS = ['job', 'instance', 'otel_scope_name'];
const ALL_LABELS = new Set([
  ...SCRAPE_LABELS,
  ...Object.values(METRICS).flatMap(labels => Object.keys(labels)),
]);

const REQUIRED_ALERTS: Record<string, string> = {
  CfAccessRefusalsHigh: 'warning',
  CfAccessGetIdentityErrors: 'warning',
  CfAccessGetIdentitySlow: 'warning',
  CfAccessSharedCacheCircuitOpen: 'warning',
  CfAccessKeysStale: 'warning',
  CfAccessForgedCacheEntries: 'critical',
  CfAccessProvisioningLimit: 'warning',
};

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
type Dashboard = {
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

const rules: Rule[] = parseYaml(readFileSync(rulesFile, 'utf8')).groups.flatMap(
  (group: { rules: Rule[] }) => group.rules,
);
const alerts = rules.filter(rule => rule.alert);
const dashboard: Dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
const allPanels = dashboard.panels.flatMap(panel => [
  panel,
  ...(panel.panels ?? []),
]);
const queryPanels = allPanels.filter(panel => panel.type !== 'row');

/** Grafana's interval macros and the job variable, as Prometheus would get them. */
function asPromQL(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{?job\}?/g, '.+');
}

type Selector = {
  metric?: string;
  matchers: { label: string; op: string; value: string }[];
};

/**
 * The series selectors and grouping labels of a PromQL expression that
 * promtool has already parsed: strings, ranges and numbers are skipped,
 * identifiers before `(` are functions, the rest are metric names.
 */
function promqlNames(expr: string): {
  selectors: Selector[];
  groupingLabels: string[];
} {
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  // Aggregations may have `by (...)` between their name and their `(`.
  const keywords = new Set([
    'and',
    'or',
    'unless',
    'bool',
    'offset',
    'inf',
    'nan',
    'atan2',
    'sum',
    'min',
    'max',
    'avg',
    'group',
    'stddev',
    'stdvar',
    'count',
    'count_values',
    'bottomk',
    'topk',
    'quantile',
    'limitk',
    'limit_ratio',
  ]);
  const grouping = new Set([
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
  ]);
  let i = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i])) i++;
  };
  const readString = () => {
    const quote = expr[i++];
    let value = '';
    while (i < expr.length && expr[i] !== quote) {
      if (expr[i] === '\\' && quote !== '`') i++;
      value += expr[i++];
    }
    i++;
    return value;
  };
  const readMatchers = () => {
    const matchers: Selector['matchers'] = [];
    i++;
    for (;;) {
      skipSpace();
      if (expr[i] === '}') break;
      if (expr[i] === ',') {
        i++;
        continue;
      }
      const label = /^[A-Za-z_]\w*/.exec(expr.slice(i))![0];
      i += label.length;
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(expr.slice(i))![0];
      i += op.length;
      skipSpace();
      matchers.push({ label, op, value: readString() });
    }
    i++;
    return matchers;
  };
  while (i < expr.length) {
    const c = expr[i];
    if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      readString();
    } else if (c === '[') {
      i = expr.indexOf(']', i) + 1;
    } else if (c === '{') {
      selectors.push({ matchers: readMatchers() });
    } else if (/[0-9.]/.test(c)) {
      i += /^[0-9.][\w.]*/.exec(expr.slice(i))![0].length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const word = /^[A-Za-z_:][\w:]*/.exec(expr.slice(i))![0];
      i += word.length;
      skipSpace();
      if (grouping.has(word.toLowerCase())) {
        if (expr[i] === '(') {
          const end = expr.indexOf(')', i);
          groupingLabels.push(
            ...expr
              .slice(i + 1, end)
              .split(',')
              .map(label => label.trim())
              .filter(Boolean),
          );
          i = end + 1;
        }
      } else if (keywords.has(word.toLowerCase()) || expr[i] === '(') {
        // an operator, a function or an aggregation
      } else {
        selectors.push({
          metric: word,
          matchers: expr[i] === '{' ? readMatchers() : [],
        });
      }
    } else {
      i++;
    }
  }
  return { selectors, groupingLabels };
}

/** What in an expression is not in the metrics contract. */
function contractProblems(expr: string): string[] {
  const problems: string[] = [];
  const { selectors, groupingLabels } = promqlNames(expr);
  for (const { metric, matchers } of selectors) {
    const names = metric ? [metric] : [];
    for (const { label, op, value } of matchers) {
      if (label === '__name__') {
        names.push(...(op === '=~' ? value.split('|') : [value]));
      }
    }
    if (names.length === 0) {
      problems.push(`a selector with no metric name in ${expr}`);
    }
    for (const name of names) {
      const labels = METRICS[name];
      if (!labels) {
        problems.push(`unknown metric ${name}`);
        continue;
      }
      for (const { label, op, value } of matchers) {
        if (label === '__name__' || SCRAPE_LABELS.includes(label)) continue;
        const values = labels[label];
        if (!values) {
          problems.push(`${name} has no label ${label}`);
        } else if (values !== OPEN) {
          // Regex matchers are checked when they are a plain list of values.
          const wanted = op.endsWith('~')
            ? /^[\w|]+$/.test(value)
              ? value.split('|')
              : []
            : [value];
          for (const v of wanted.filter(w => !values.includes(w))) {
            problems.push(`${name}{${label}} has no value ${v}`);
          }
        }
      }
    }
  }
  for (const label of groupingLabels) {
    if (!ALL_LABELS.has(label)) problems.push(`unknown label ${label}`);
  }
  return problems;
}

/** Every PromQL expression in the dashboard, with where it is. */
function dashboardQueries(): { where: string; expr: string }[] {
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

function runPromtool(args: string[], cwd: string) {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return {
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}`,
  };
}

const promtoolMissing =
  spawnSync('promtool', ['--version']).error !== undefined;

describe('promtool', () => {
  if (promtoolMissing && !process.env.CI) {
    it.skip('promtool is not installed (apt-get install -y prometheus); the rules are not checked', () => {});
    return;
  }
  // In CI a missing promtool fails here, once, rather than in every check.
  const withPromtool = promtoolMissing ? it.skip : it;

  it('is installed', () => {
    if (promtoolMissing) {
      throw new Error(
        'promtool is not installed: apt-get install -y prometheus (.ci/run installs it)',
      );
    }
  });

  withPromtool('accepts the rule file', () => {
    const { status, output } = runPromtool(
      ['check', 'rules', 'prometheus-alerts.yaml'],
      docsDir,
    );
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  withPromtool(
    'passes the rules unit tests: each alert fires when it should and stays quiet when it should not',
    () => {
      const { status, output } = runPromtool(
        ['test', 'rules', 'prometheus-alerts.test.yaml'],
        docsDir,
      );
      expect(output).toContain('SUCCESS');
      expect(status).toBe(0);
    },
  );

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

describe('the rules unit tests', () => {
  const tests: {
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
  }[] = parseYaml(readFileSync(rulesTestFile, 'utf8')).tests;
  const cases = tests.flatMap(test => test.alert_rule_test ?? []);

  it.each(alerts.map(rule => rule.alert!))(
    'show %s both firing and quiet',
    alert => {
      const mine = cases.filter(c => c.alertname === alert);
      expect(mine.some(c => (c.exp_alerts ?? []).length > 0)).toBe(true);
      expect(mine.some(c => (c.exp_alerts ?? []).length === 0)).toBe(true);
    },
  );
});

describe('the alert rules', () => {
  it('have every alert the runbook promises, with its severity', () => {
    expect(
      Object.fromEntries(
        alerts.map(rule => [rule.alert, rule.labels?.severity]),
      ),
    ).toEqual(REQUIRED_ALERTS);
  });

  it.each(alerts.map(rule => [rule.alert!, rule] as const))(
    '%s has a summary, a description and a runbook',
    (_, rule) => {
      expect(rule.annotations).toEqual({
        summary: expect.any(String),
        description: expect.any(String),
        runbook_url: expect.stringMatching(/^docs\/observability\.md#/),
      });
    },
  );

  it.each(rules.map(rule => [rule.alert ?? rule.record!, rule.expr] as const))(
    '%s uses only the contract metrics and labels',
    (_, expr) => {
      expect(contractProblems(expr)).toEqual([]);
    },
  );
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
    // @grafana/schema leaves queries open: these are the Prometheus query's
    // fields (its DataQuery), so a misspelt one is caught here.
    const fields = new Set([
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
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        expect(target.expr).toMatch(/\S/);
        expect(Object.keys(target).filter(key => !fields.has(key))).toEqual([]);
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
  it('find unknown metrics, labels and values', () => {
    expect(
      contractProblems(
        'sum by (cfaccess_reson) (rate(cfaccess_sign_ins{job="x"}[5m])) / on (job) sum(cfaccess_cache_reads_total{cfaccess_cache_result=~"hit|forged"}) or cfaccess_keys_age offset 5m',
      ),
    ).toEqual([
      'unknown metric cfaccess_sign_ins',
      'cfaccess_cache_reads_total{cfaccess_cache_result} has no value forged',
      'unknown label cfaccess_reson',
    ]);
    expect(
      contractProblems('{__name__=~"cfaccess_sign_ins_total|cfaccess_users"}'),
    ).toEqual(['unknown metric cfaccess_users']);
  });

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

// Grafana's published dashboard types cover every panel; the per-panel
// option types are separate, so each panel type here needs its entry.
const PANEL_SCHEMAS: Record<string, { module: string; fieldConfig: boolean }> =
  {
    timeseries: {
      module: 'raw/composable/timeseries/panelcfg/x/types.gen',
      fieldConfig: true,
    },
    stat: {
      module: 'raw/composable/stat/panelcfg/x/types.gen',
      fieldConfig: false,
    },
  };

/**
 * Type-checks the dashboard, as a literal, against @grafana/schema's
 * Dashboard and each panel's Options and FieldConfig: missing required
 * fields, wrong types, unknown enum values and misspelt keys (excess
 * properties) are errors. JSON has no enums, so string enums are checked as
 * their values.
 */
function grafanaSchemaErrors(model: Dashboard): string[] {
  let schemaDir: string;
  try {
    schemaDir = dirname(require.resolve('@grafana/schema/package.json'));
  } catch {
    throw new Error(
      'The devDependency @grafana/schema is missing: the dashboard is checked against its types',
    );
  }
  const types = join(schemaDir, 'dist/types');
  // The importer consumes __inputs and drops it; the saved model has none.
  const { __inputs, ...saved } = model;
  const source: string[] = [
    `import type { Dashboard } from ${JSON.stringify(join(types, 'index'))};`,
    ...Object.entries(PANEL_SCHEMAS).map(
      ([type, { module }]) =>
        `import type * as ${type} from ${JSON.stringify(join(types, module))};`,
    ),
    'type IsAny<T> = 0 extends 1 & T ? true : false;',
    'type Json<T> = IsAny<T> extends true ? T : T extends string ? `${T}` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    `export const dashboard: Json<Dashboard> = ${JSON.stringify(
      saved,
      null,
      2,
    )};`,
  ];
  const unknownTypes: string[] = [];
  for (const panel of model.panels.flatMap(p => [p, ...(p.panels ?? [])])) {
    if (panel.type === 'row') continue;
    const schema = PANEL_SCHEMAS[panel.type];
    if (!schema) {
      unknownTypes.push(`panel "${panel.title}": no schema for ${panel.type}`);
      continue;
    }
    source.push(
      `export const panel${panel.id}_options: Json<${
        panel.type
      }.Options> = ${JSON.stringify(panel.options ?? {})};`,
    );
    if (schema.fieldConfig) {
      source.push(
        `export const panel${panel.id}_custom: Json<${
          panel.type
        }.FieldConfig> = ${JSON.stringify(
          panel.fieldConfig?.defaults?.custom ?? {},
        )};`,
      );
    }
  }
  const fileName = join(__dirname, '__grafana-dashboard-check__.ts');
  const text = source.join('\n');
  const lines = text.split('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (name, version, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, text, version)
      : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists;
  host.fileExists = name => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  const errors = ts.getPreEmitDiagnostics(program).map(diagnostic => {
    const message = ts.flattenDiagnosticMessageText(
      diagnostic.messageText,
      '\n',
    );
    if (diagnostic.file?.fileName !== fileName) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(
      diagnostic.start ?? 0,
    );
    // The declaration names the panel; the line shows the field.
    const declared = lines
      .slice(0, line + 1)
      .reverse()
      .map(l => /^export const (\w+)/.exec(l)?.[1])
      .find(Boolean);
    return `${declared}: ${lines[line].trim().slice(0, 120)}: ${message}`;
  });
  return [...unknownTypes, ...errors];
}
