// The upstream module lives outside the workspace (see upstream/package.json):
// installed on first use, then reused while its version stays the one asked for.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const UPSTREAM_DIR = resolve(__dirname, '../upstream');
const UPSTREAM_MODULE =
  '@backstage/plugin-auth-backend-module-cloudflare-access-provider';

async function versionIn(
  dir: string,
  name?: string,
): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(
      await readFile(join(dir, 'package.json'), 'utf8'),
    );
    return name ? manifest.dependencies[name] : manifest.version;
  } catch {
    return undefined; // not installed yet
  }
}

/** `npm install` for a folder outside the workspace, as a user installs: no lock file, quiet. */
export const STANDALONE_NPM_INSTALL = [
  'install',
  '--no-audit',
  '--no-fund',
  '--no-package-lock',
  '--loglevel=error',
];

/** Installs the upstream module if needed; resolves to the file to import. */
export async function installUpstreamModule(): Promise<string> {
  const moduleDir = join(UPSTREAM_DIR, 'node_modules', UPSTREAM_MODULE);
  const wanted = await versionIn(UPSTREAM_DIR, UPSTREAM_MODULE);
  if ((await versionIn(moduleDir)) !== wanted) {
    await promisify(execFile)('npm', STANDALONE_NPM_INSTALL, {
      cwd: UPSTREAM_DIR,
    });
  }
  return require.resolve(moduleDir);
}
