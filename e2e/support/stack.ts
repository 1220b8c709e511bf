import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import {
  isUp,
  LOCAL_STACK,
  type LocalServerName,
  waitUntilUp,
} from '../../scripts/localStack';
import { ARTIFACTS_DIR, REPO_ROOT } from './paths';

/** The dev server compiles the whole app first; two cores take a while. */
const READY_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 15_000;

export interface LocalStack {
  /** Stops every server and waits until their processes are gone. */
  stop(): Promise<void>;
}

/**
 * How the tests run each server: with the npm scripts of `npm start`, except
 * the backend, which runs without the CLI's file watcher: an edit to any of
 * its sources would restart it mid-test with an empty in-memory catalog.
 */
function commandFor(name: LocalServerName, accessArgs: string[]) {
  if (name === 'backend') {
    return {
      command: process.execPath,
      args: [
        '--enable-source-maps',
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        // As `npm start` does (package.json's start script): metrics for Prometheus.
        '--require',
        './src/instrumentation.js',
        'src/index.ts',
      ],
      cwd: join(REPO_ROOT, 'packages/backend'),
    };
  }
  const extraArgs = name === 'access' ? accessArgs : [];
  return {
    command: 'npm',
    args: ['run', LOCAL_STACK[name].script, '--', ...extraArgs],
    cwd: REPO_ROOT,
  };
}

/** True while any process of the group is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopGroup(pgid: number): Promise<void> {
  if (!groupAlive(pgid)) {
    return;
  }
  process.kill(-pgid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (groupAlive(pgid) && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  if (groupAlive(pgid)) {
    process.kill(-pgid, 'SIGKILL');
  }
}

/** A server process to start: what to run, and the URL that answers once it is up. */
export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  readyUrl: string;
  env?: Record<string, string>;
}

/** The spec of a server of `npm start`, by name. */
export function localServer(
  name: LocalServerName,
  accessArgs: string[] = [],
): ServerSpec {
  return {
    name,
    ...commandFor(name, accessArgs),
    readyUrl: LOCAL_STACK[name].readyUrl,
  };
}

/** The sample backend run as `npm start` runs it, plus config files (for replicas). */
export function backendServer(
  name: string,
  readyUrl: string,
  configFiles: string[],
  env?: Record<string, string>,
): ServerSpec {
  const spec = commandFor('backend', []);
  return {
    name,
    ...spec,
    ...(env && { env }),
    args: [
      ...spec.args,
      ...['../../app-config.yaml', ...configFiles].flatMap(file => [
        '--config',
        file,
      ]),
    ],
    readyUrl,
  };
}

/**
 * Starts servers, each in its own process group so that stopping ends npm
 * and every child, and waits until each answers. Logs go to
 * e2e/artifacts/logs/<label>-<name>.log.
 */
export async function startServers(
  label: string,
  specs: ServerSpec[],
): Promise<LocalStack> {
  for (const { readyUrl } of specs) {
    if (await isUp(readyUrl)) {
      throw new Error(
        `${readyUrl} already answers: stop "npm start" before running the e2e tests`,
      );
    }
  }

  const logDir = join(ARTIFACTS_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  const groups: number[] = [];
  const stop = async () => {
    process.removeListener('exit', killAll);
    await Promise.all(groups.map(stopGroup));
  };
  // A test run that dies mid-way must not leave servers behind.
  const killAll = () =>
    groups.filter(groupAlive).forEach(pgid => process.kill(-pgid, 'SIGKILL'));
  process.on('exit', killAll);

  try {
    await Promise.all(
      specs.map(async ({ name, command, args, cwd, env, readyUrl }) => {
        const logFile = join(logDir, `${label}-${name}.log`);
        const log = openSync(logFile, 'w');
        const child = spawn(command, args, {
          cwd,
          detached: true,
          stdio: ['ignore', log, log],
          // No browser tab from the dev server; no hot reloading either.
          env: {
            ...process.env,
            BROWSER: 'none',
            CI: 'true',
            NODE_ENV: 'development',
            ...env,
          },
        });
        groups.push(child.pid!);
        const exited = new Promise<never>((_, reject) =>
          child.once('exit', code =>
            reject(
              new Error(
                `${name} exited with ${code} before it was ready; see ${logFile}`,
              ),
            ),
          ),
        );
        await Promise.race([
          waitUntilUp(readyUrl, AbortSignal.timeout(READY_TIMEOUT_MS)),
          exited,
        ]);
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

/** Starts servers of the local stack (`npm start`'s), on its ports. */
export function startLocalStack(options: {
  label: string;
  servers: LocalServerName[];
  /** Extra emulator flags, e.g. a short session. */
  accessArgs?: string[];
}): Promise<LocalStack> {
  return startServers(
    options.label,
    options.servers.map(name => localServer(name, options.accessArgs)),
  );
}
