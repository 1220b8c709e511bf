import { spawn } from 'node:child_process';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

/** The publishable packages, and the name each tarball gets in the packaging fixtures. */
export const PUBLISHED_PACKAGES = [
  {
    dir: 'plugins/auth-backend-module-cloudflare-access-provider',
    tarball: 'module.tgz',
  },
  {
    dir: 'plugins/cloudflare-access-react',
    tarball: 'cloudflare-access-react.tgz',
  },
  { dir: 'packages/access-emulator', tarball: 'access-emulator.tgz' },
  { dir: 'plugins/cloudflare-access-node', tarball: 'node.tgz' },
  {
    dir: 'plugins/catalog-backend-module-cloudflare-access',
    tarball: 'catalog-module.tgz',
  },
];

/** Runs a command and returns what it printed: `stdout` alone, and `text` with stderr. */
export function output(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
) {
  const child = spawn(command, args, { cwd, env });
  let stdout = '';
  let text = '';
  child.stdout.on('data', chunk => {
    stdout += chunk;
    text += chunk;
  });
  child.stderr.on('data', chunk => (text += chunk));
  return new Promise<{ code: number | null; stdout: string; text: string }>(
    done => child.once('close', code => done({ code, stdout, text })),
  );
}

/**
 * Packs a package of this repository (built: `npm run build`) into `dest` as
 * `tarball`; returns the files it holds.
 */
export async function pack(
  dir: string,
  dest: string,
  tarball: string,
): Promise<string[]> {
  const { code, stdout, text } = await output(
    'npm',
    ['pack', '--json', '--pack-destination', dest],
    join(REPO_ROOT, dir),
  );
  if (code !== 0) {
    throw new Error(`npm pack in ${dir} exited ${code}: ${text}`);
  }
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  renameSync(join(dest, packed.filename), join(dest, tarball));
  return packed.files.map((file: { path: string }) => file.path);
}
