import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import {
  isUp,
  type LocalPorts,
  type LocalServerName,
  localStack,
  type LocalUrls,
  localUrls,
  waitUntilUp,
} from '../../scripts/localStack';
import { ARTIFACTS_DIR, REPO_ROOT } from './paths';
import { freePorts } from './ports';

/** The dev server compiles the whole app first; two cores take a while. */
const READY_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 15_000;

export interface LocalStack {
  /** Stops every server and waits until their processes are gone. */
  stop(): Promise<void>;
}

/** Ports for one suite's local stack (its servers and the backend's metrics), free on this machine now. */
export async function freeLocalPorts(): Promise<LocalPorts> {
  const [access, backend, app, metrics] = await freePorts(4);
  return { access, backend, app, metrics };
}

/**
 * The config that moves the backend and the app's dev server from
 * app-config.yaml's ports to `ports`: Backstage's APP_CONFIG_ variables, which
 * both read over their config files. The team domain is the emulator's URL
 * (the issuer of its tokens), so it moves with the emulator.
 */
function backstageConfigEnv(ports: LocalPorts): Record<string, string> {
  const { access } = localUrls(ports);
  return {
    APP_CONFIG_app_baseUrl: access,
    APP_CONFIG_app_listen_port: String(ports.app),
    APP_CONFIG_backend_baseUrl: access,
    APP_CONFIG_backend_listen_port: String(ports.backend),
    APP_CONFIG_backend_cors_origin: access,
    APP_CONFIG_auth_providers_cfaccess_teamDomain: access,
    'APP_CONFIG_auth_providers_cfaccess-custom_teamDomain': access,
    // The metrics exporter's own variable (packages/backend/src/instrumentation.js).
    OTEL_EXPORTER_PROMETHEUS_PORT: String(ports.metrics),
  };
}

/** The emulator flags that move the start:access script's emulator to `ports`: the last of a flag given twice wins. */
function accessPortArgs(ports: LocalPorts): string[] {
  const urls = localUrls(ports);
  return [
    ...['--port', String(ports.access)],
    ...['--upstream', urls.app],
    ...['--route', `/api/=${urls.backend}`],
  ];
}

/**
 * How the tests run each server: with the npm scripts of `npm start`, except
 * the backend, which runs without the CLI's file watcher: an edit to any of
 * its sources would restart it mid-test with an empty in-memory catalog.
 */
function commandFor(
  name: LocalServerName,
  ports: LocalPorts,
  accessArgs: string[],
) {
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
  const extraArgs =
    name === 'access' ? [...accessPortArgs(ports), ...accessArgs] : [];
  return {
    command: 'npm',
    args: ['run', localStack(ports)[name].script, '--', ...extraArgs],
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
  /** Over this process's environment: where the servers of its stack listen. */
  env: Record<string, string>;
}

/** The spec of a server of `npm start`, by name, on the given ports. */
export function localServer(
  name: LocalServerName,
  ports: LocalPorts,
  accessArgs: string[] = [],
): ServerSpec {
  return {
    name,
    ...commandFor(name, ports, accessArgs),
    readyUrl: localStack(ports)[name].readyUrl,
    env: backstageConfigEnv(ports),
  };
}

/** The sample backend run as `npm start` runs it, on the given ports, plus config files. */
export function backendServer(
  name: string,
  ports: LocalPorts,
  configFiles: string[],
): ServerSpec {
  const spec = localServer('backend', ports);
  return {
    ...spec,
    name,
    args: [
      ...spec.args,
      ...['../../app-config.yaml', ...configFiles].flatMap(file => [
        '--config',
        file,
      ]),
    ],
  };
}

/**
 * Starts servers, each in its own process group so that stopping ends npm
 * and every child, and waits until each answers. Logs go to
 * e2e/artifacts/logs/<label>-<name>-<port>.log: the port, which no other
 * server on the machine has, keeps two runs out of each other's logs.
 */
export async function startServers(
  label: string,
  specs: ServerSpec[],
): Promise<LocalStack> {
  for (const { readyUrl } of specs) {
    if (await isUp(readyUrl)) {
      throw new Error(
        `${readyUrl} already answers: another server took the port picked for this one`,
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
        const logFile = join(
          logDir,
          `${label}-${name}-${new URL(readyUrl).port}.log`,
        );
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

/** Servers of the local stack that run, and where they answer. */
export interface StartedLocalStack extends LocalStack {
  urls: LocalUrls;
}

/** Starts servers of the local stack (`npm start`'s), on the given ports or on free ones. */
export async function startLocalStack(options: {
  label: string;
  servers: LocalServerName[];
  ports?: LocalPorts;
  /** Extra emulator flags, e.g. a short session. */
  accessArgs?: string[];
}): Promise<StartedLocalStack> {
  const ports = options.ports ?? (await freeLocalPorts());
  const { stop } = await startServers(
    options.label,
    options.servers.map(name => localServer(name, ports, options.accessArgs)),
  );
  return { stop, urls: localUrls(ports) };
}
