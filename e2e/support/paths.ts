import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');
/** Screenshots and server logs of the last run (gitignored). */
export const ARTIFACTS_DIR = resolve(REPO_ROOT, 'e2e/artifacts');
