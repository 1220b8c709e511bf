/** The metrics contract the operator files are checked against, and the check: which metrics, labels and values an expression names. */

// The metrics contract: each metric as Prometheus stores it, with the values
// of each closed label; 'open' labels take any value (refusal reasons grow
// with the code).
export const OPEN = 'open';
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
export const METRICS: Record<string, Record<string, LabelValues>> = {
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
export const ALL_LABELS = new Set([
  ...SCRAPE_LABELS,
  ...Object.values(METRICS).flatMap(labels => Object.keys(labels)),
]);

type Selector = {
  metric?: string;
  matchers: { label: string; op: string; value: string }[];
};

/**
 * The series selectors and grouping labels of a PromQL expression that
 * promtool has already parsed: strings, ranges and numbers are skipped,
 * identifiers before `(` are functions, the rest are metric names.
 */
export function promqlNames(expr: string): {
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
export function contractProblems(expr: string): string[] {
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
