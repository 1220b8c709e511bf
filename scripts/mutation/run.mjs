// Runs Stryker over the trust core, one package at a time (never two runs at once).
// Usage: npm run test:mutation [-- <package directory>... | all]
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRUST_CORE } from '../../stryker.config.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = resolve(ROOT, 'stryker.config.mjs');
const STRYKER = resolve(
  ROOT,
  'node_modules/@stryker-mutator/core/bin/stryker.js',
);

// What fits in a habit-sized run; the integration-heavy modules are asked for by name.
const DEFAULT_PACKAGES = ['cloudflare-access-node'];

const args = process.argv.slice(2);
const packages =
  args.length === 0
    ? DEFAULT_PACKAGES
    : args.includes('all')
    ? Object.keys(TRUST_CORE)
    : args;

const unknown = packages.filter(pkg => !(pkg in TRUST_CORE));
if (unknown.length > 0) {
  console.error(
    `Unknown package ${unknown.join(', ')}; choose from: ${Object.keys(
      TRUST_CORE,
    ).join(', ')}, all`,
  );
  process.exit(2);
}

for (const pkg of packages) {
  console.log(`\n=== Stryker: plugins/${pkg} ===`);
  const { status } = spawnSync(process.execPath, [STRYKER, 'run', CONFIG], {
    cwd: resolve(ROOT, 'plugins', pkg),
    stdio: 'inherit',
    // What `backstage-cli package test` sets before it starts jest.
    env: { NODE_ENV: 'test', TZ: 'UTC', ...process.env },
  });
  if (status !== 0) {
    process.exit(status ?? 1);
  }
}
