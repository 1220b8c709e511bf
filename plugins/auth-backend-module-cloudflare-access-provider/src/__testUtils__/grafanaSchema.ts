/** The dashboard checked as a TypeScript literal against Grafana's published types (@grafana/schema). */
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { Dashboard } from './observability';

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
export function grafanaSchemaErrors(model: Dashboard): string[] {
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
