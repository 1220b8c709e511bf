import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export type AccessModule = 'ours' | 'upstream';

export interface BackendOptions {
  module: AccessModule;
  /** `auth.providers.cfaccess` for this module. */
  provider: Record<string, unknown>;
  catalogFile: string;
  /** The catalog Users (names) the backend must have before it counts as ready. */
  catalogUsers: string[];
  /** Where the config file and the log go. */
  workDir: string;
  /** Scripts preloaded with `node -r`, before the backend. */
  preload?: string[];
  /** Flags for node itself, e.g. `--expose-gc`. */
  nodeArgs?: string[];
  /** How long the catalog may take to have `catalogUsers`; defaults to 90 s. */
  startTimeoutMs?: number;
  env?: Record<string, string>;
}

export interface RunningBackend {
  url: string;
  pid: number;
  logFile: string;
  /** CPU seconds (user + system) the backend process has used so far; undefined off Linux. */
  cpuSeconds(): number | undefined;
  /** Lines the backend logged at level error, deduplicated. */
  errorLines(): Promise<string[]>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

/** CPU time of a process from /proc: what it costs, whatever else the machine is running. */
function processCpuSeconds(pid: number | undefined, ticksPerSecond: number) {
  try {
    // Fields after the command name: state is field 3, utime 14 and stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

function clockTicksPerSecond(): number {
  try {
    return (
      Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100
    );
  } catch {
    return 100;
  }
}

/** A port nothing listens on now (the packaging check uses it too). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', done);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise(done => server.close(done));
  return port;
}

function backendConfig(
  options: BackendOptions,
  url: string,
  port: number,
  catalogToken: string,
) {
  return {
    app: { baseUrl: url },
    backend: {
      baseUrl: url,
      listen: { host: '127.0.0.1', port },
      database: { client: 'better-sqlite3', connection: ':memory:' },
      cache: { store: 'memory' },
      // Lets the bench ask the catalog whether it has ingested the Users yet.
      auth: {
        externalAccess: [
          {
            type: 'static',
            options: { token: catalogToken, subject: 'bench' },
          },
        ],
      },
    },
    auth: {
      environment: 'production',
      providers: { cfaccess: options.provider },
    },
    catalog: {
      rules: [{ allow: ['Location'] }],
      locations: [
        {
          type: 'file',
          target: options.catalogFile,
          rules: [{ allow: ['User', 'Group'] }],
        },
      ],
    },
  };
}

function exitOf(child: ChildProcess): Promise<string> {
  return new Promise(done => {
    child.once('exit', (code, signal) => done(`exited with ${code ?? signal}`));
    child.once('error', error => done(`could not run: ${error.message}`));
  });
}

async function isReady(
  url: string,
  users: string[],
  catalogToken: string,
): Promise<boolean> {
  try {
    const health = await fetch(`${url}/.backstage/health/v1/readiness`);
    if (!health.ok) {
      return false;
    }
    const found = await Promise.all(
      users.map(user =>
        fetch(`${url}/api/catalog/entities/by-name/user/default/${user}`, {
          headers: { authorization: `Bearer ${catalogToken}` },
        }),
      ),
    );
    return found.every(res => res.ok);
  } catch {
    return false; // not listening yet
  }
}

async function waitUntilReady(
  url: string,
  options: BackendOptions,
  catalogToken: string,
  exited: Promise<string>,
  logFile: string,
) {
  const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let gone: string | undefined;
  exited.then(reason => {
    gone = reason;
  });
  while (Date.now() < deadline) {
    if (gone) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const lastLines = log.split('\n').slice(-20).join('\n');
      throw new Error(
        `the ${options.module} backend ${gone} before it was ready; last log lines:\n${lastLines}`,
      );
    }
    if (await isReady(url, options.catalogUsers, catalogToken)) {
      return;
    }
    await new Promise(done => setTimeout(done, 250));
  }
  throw new Error(
    `the ${options.module} backend did not have the catalog Users ` +
      `${options.catalogUsers.join(', ')} within ${
        timeoutMs / 1000
      }s (log: ${logFile})`,
  );
}

/**
 * Runs `packages/bench/src/backend.ts` in a child process, as
 * `backstage-cli package start` would, on a free loopback port.
 */
export async function startBackend(
  options: BackendOptions,
): Promise<RunningBackend> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const catalogToken = randomBytes(24).toString('base64url');
  const configFile = join(options.workDir, `app-config.${options.module}.yaml`);
  // JSON is YAML, and the config loader reads YAML.
  const config = backendConfig(options, url, port, catalogToken);
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const logFile = join(options.workDir, `backend.${options.module}.log`);
  const log = openSync(logFile, 'w');

  // TypeScript runs as `backstage-cli package start` runs it.
  const preload = [
    require.resolve('@backstage/cli/config/nodeTransform.cjs'),
    ...(options.preload ?? []),
  ];
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      ...preload.flatMap(script => ['-r', script]),
      require.resolve('./backend'),
      '--config',
      configFile,
    ],
    {
      env: {
        ...process.env,
        ...options.env,
        BENCH_ACCESS_MODULE: options.module,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  const exited = exitOf(child);
  // Should the bench itself crash, the backend goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (
      child.exitCode !== null ||
      child.signalCode !== null ||
      child.pid === undefined
    ) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilReady(url, options, catalogToken, exited, logFile);
  } catch (error) {
    await stop();
    throw error;
  }

  const ticksPerSecond = clockTicksPerSecond();
  return {
    url,
    pid: child.pid!,
    logFile,
    cpuSeconds: () => processCpuSeconds(child.pid, ticksPerSecond),
    async errorLines() {
      const lines = (await readFile(logFile, 'utf8')).split('\n');
      const messages = lines.flatMap(line => {
        try {
          const entry = JSON.parse(line);
          const message = `${entry.plugin ?? ''} ${entry.message}`.trim();
          return entry.level === 'error' ? [message] : [];
        } catch {
          // Not a JSON log line: kept if it looks like a failure (a crash, a stack trace).
          return /error/i.test(line) ? [line] : [];
        }
      });
      return [...new Set(messages)];
    },
    stop,
  };
}
