// The README's "Add it to your Backstage", read from the README itself and
// applied to an app laid out as create-app lays it out, so that the README
// cannot drift from what works.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../support/paths';

const SECTION = '## Add it to your Backstage';
/** The README under test; another one (a broken copy, say) through README_UNDER_TEST. */
const README = process.env.README_UNDER_TEST ?? join(REPO_ROOT, 'README.md');

interface Block {
  lang: string;
  code: string;
}

/** The fenced code blocks of the README's section, in order. */
export function readmeBlocks(readme = readFileSync(README, 'utf8')): Block[] {
  const start = readme.indexOf(SECTION);
  if (start < 0) {
    throw new Error(`README.md has no "${SECTION}" section`);
  }
  const end = readme.indexOf('\n## ', start + SECTION.length);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(match => ({
    lang: match[1],
    code: match[2],
  }));
}

function only(blocks: Block[], what: string, test: (b: Block) => boolean) {
  const found = blocks.filter(test);
  if (found.length !== 1) {
    throw new Error(
      `README.md's "${SECTION}" has ${found.length} blocks for ${what}, not 1`,
    );
  }
  return found[0].code;
}

/** Shell commands: comments dropped, continued lines joined. */
function commands(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map(line => line.trim())
    .filter(line => line && !line.startsWith('#'));
}

export interface ReadmeSteps {
  /** Step 1: the yarn commands that add each package to its workspace. */
  install: string[];
  /** Step 2: lines for packages/backend/src/index.ts, starting with the auth plugin's. */
  backend: string;
  /** Step 3: packages/app/src/App.tsx's imports and the features it adds. */
  appImports: string[];
  appFeatures: string[];
  /** Step 4: what app-config.yaml gets. */
  config: Record<string, unknown>;
  /** Step 5: the command that runs the emulator beside `yarn start`. */
  emulator: string;
  /** Step 6: the check, with `<token>` where the Access token goes. */
  explain: string;
}

export function readmeSteps(blocks = readmeBlocks()): ReadmeSteps {
  const shell = blocks.filter(b => b.lang === 'sh');
  const app = only(blocks, 'App.tsx', b => b.lang === 'tsx');
  const features = /features: \[(?:\/\*[^*]*\*\/)?([^\]]*)\]/.exec(app);
  if (!features) {
    throw new Error("README.md's App.tsx block has no features: [...]");
  }
  return {
    install: commands(
      only(shell, 'the install', b => b.code.includes('yarn workspace app')),
    ),
    backend: only(blocks, 'the backend', b => b.lang === 'ts'),
    appImports: app.split('\n').filter(line => line.startsWith('import ')),
    appFeatures: features[1]
      .split(',')
      .map(f => f.trim())
      .filter(Boolean),
    config: parse(only(blocks, 'the config', b => b.lang === 'yaml')),
    emulator: commands(
      only(shell, 'the emulator', b => b.code.includes('--upstream')),
    ).join('\n'),
    explain: commands(
      only(shell, 'the check', b => b.code.includes('cfaccess-explain')),
    ).join('\n'),
  };
}

/** Writes `change(text)` over the file; `change` throws if it finds nothing to change. */
function edit(file: string, change: (text: string) => string) {
  writeFileSync(file, change(readFileSync(file, 'utf8')));
}

/** Keys of `update` replace or join those of `base`, as an adopter edits their config. */
function merged(base: unknown, update: unknown): unknown {
  if (update === null || update === undefined) {
    return base;
  }
  if (
    base &&
    update &&
    typeof base === 'object' &&
    typeof update === 'object' &&
    !Array.isArray(base) &&
    !Array.isArray(update)
  ) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(update)) {
      out[key] = merged(out[key], value);
    }
    return out;
  }
  return update;
}

/** Steps 2 to 4 on the app in `root`. */
export function applyReadme(root: string, steps: ReadmeSteps) {
  edit(join(root, 'packages/backend/src/index.ts'), text => {
    const [anchor] = steps.backend.split('\n');
    if (!text.includes(anchor)) {
      throw new Error(`The backend's index.ts has no "${anchor}"`);
    }
    return text.replace(anchor, steps.backend.trimEnd());
  });
  edit(join(root, 'packages/app/src/App.tsx'), text => {
    const features = /features: \[([^\]]*)\]/.exec(text);
    if (!features) {
      throw new Error("The app's App.tsx has no features: [...]");
    }
    const all = [features[1], ...steps.appFeatures].join(', ');
    return `${steps.appImports.join('\n')}\n${text.replace(
      features[0],
      `features: [${all}]`,
    )}`;
  });
  edit(join(root, 'app-config.yaml'), text =>
    stringify(merged(parse(text), steps.config)),
  );
}
