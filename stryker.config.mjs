// StrykerJS over the trust core, one package per run: scripts/mutation/run.mjs
// starts it from the package's directory, so jest gets that package's
// Backstage config, as `backstage-cli package test` would give it.
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));

/** The files to mutate, by package directory under plugins/. */
export const TRUST_CORE = {
  'cloudflare-access-node': [
    'identityRules.ts',
    'userNames.ts',
    'personSeen.ts',
    'personSeenSigning.ts',
    'provenance.ts',
    'provisioningPolicy.ts',
    'accessGroups.ts',
  ],
  'auth-backend-module-cloudflare-access-provider': [
    'verifier.ts',
    'identityClient.ts',
    'identityAnswer.ts',
  ],
  'catalog-backend-module-cloudflare-access': ['store.ts'],
};

/**
 * The tests run against the modules' mutants: those that pin the trust core
 * down, not every integration test (each starts a backend, hours in all).
 * The node library runs all of its tests.
 */
export const FOCUSED_TESTS = {
  'auth-backend-module-cloudflare-access-provider': [
    'verifier.test.ts',
    'verifierKeys.test.ts',
    'verifierTrust.test.ts',
    'identityAnswers.test.ts',
    'identityAnswersBetween.test.ts',
  ],
  'catalog-backend-module-cloudflare-access': ['store.test.ts'],
};

const pkg = basename(process.cwd());
const focused = FOCUSED_TESTS[pkg];

export default {
  testRunner: 'jest',
  plugins: ['@stryker-mutator/jest-runner'],
  jest: {
    projectType: 'custom',
    configFile: resolve(ROOT, 'node_modules/@backstage/cli/config/jest.js'),
    ...(focused && {
      config: { testMatch: focused.map(file => `**/${file}`) },
    }),
  },
  mutate: (TRUST_CORE[pkg] ?? []).map(file => `src/${file}`),
  // Only the tests that cover a mutant run against it.
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 10000,
  // The modules' initial run starts real backends in band: minutes.
  dryRunTimeoutMinutes: 15,
  // Below 90 % killed the run fails: CI runs the node library's trust core.
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: resolve(ROOT, `reports/mutation/${pkg}.html`) },
  jsonReporter: { fileName: resolve(ROOT, `reports/mutation/${pkg}.json`) },
  // At the repo root, the sandbox sits as deep as the package does, so the
  // tests' paths up to examples/ still resolve.
  tempDirName: resolve(ROOT, '.stryker-tmp'),
  cleanTempDir: 'always',
};
