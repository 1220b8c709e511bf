/** A real redis-server for the tests that share state through Redis: started, stopped and started again. */
import { JsonObject } from '@backstage/types';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether a redis-server binary is on the PATH (Debian's redis-server package). */
export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `describe` where redis-server can run (CI installs it); elsewhere skipped, saying so. */
export function describeWithRedis(name: string, tests: () => void) {
  if (hasRedisServer() || process.env.CI) {
    describe(name, tests);
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(
    `redis-server is not installed: skipping "${name}" (apt-get install redis-server)`,
  );
  describe.skip(name, tests);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A throwaway, in-memory redis-server on a loopback port. */
export type TestRedis = {
  url: string;
  /** Stops the server, as an outage would; its data is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Every key and its value, as `redis-cli` prints them. */
  dump(): Record<string, string>;
};

function spawnRedis(port: number): Promise<ChildProcess> {
  // Backstage's cache clients outlive a stopped backend and fail loudly if
  // Redis goes first, so Redis lives until this process dies (setpriv's pdeathsig).
  const redis: ChildProcess = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'TERM',
      '--',
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    redis.stdout!.on('data', chunk => {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) {
        resolve(redis);
      }
    });
    redis.once('exit', code =>
      reject(new Error(`redis-server exited with ${code}: ${output}`)),
    );
  });
}

/** Starts a throwaway, in-memory redis-server on a free loopback port, stopped when this process exits. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let redis: ChildProcess | undefined = await spawnRedis(port);
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', ['-p', String(port), '--raw', ...args], {
      encoding: 'utf8',
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const stopping = redis;
      redis = undefined;
      if (stopping && stopping.exitCode === null) {
        stopping.removeAllListeners('exit');
        stopping.kill('SIGKILL');
        await once(stopping, 'exit');
      }
    },
    async start() {
      redis = await spawnRedis(port);
    },
    dump() {
      const keys = cli('--scan').split('\n').filter(Boolean);
      return Object.fromEntries(keys.map(key => [key, cli('GET', key)]));
    },
  };
}

/** A Redis and the directory of one auth database: what the replicas of one deployment share. */
export type SharedRedis = TestRedis & { databaseDirectory: string };

/**
 * Starts a Redis and makes the directory of the auth database before the
 * tests of the enclosing describe, for the replicas they start on it
 * (`sharedRedis`); the handle is filled in once it has started.
 */
export function useSharedRedis(): SharedRedis {
  const shared = {} as SharedRedis;
  beforeAll(async () => {
    Object.assign(shared, await startRedis(), {
      databaseDirectory: await mkdtemp(join(tmpdir(), 'cfaccess-auth-db-')),
    });
  });
  return shared;
}

/**
 * The `backend` config of replicas of one deployment on this Redis: the cache
 * store, and one auth plugin database for all of them (a SQLite file in
 * `databaseDirectory`), as replicas share one database, so they share the
 * secret that authenticates cache entries. Each catalog stays in memory.
 */
export function replicaBackendConfig({
  url,
  databaseDirectory,
}: SharedRedis): JsonObject {
  return {
    cache: { store: 'redis', connection: url },
    database: {
      client: 'better-sqlite3',
      connection: ':memory:',
      plugin: {
        auth: {
          connection: { directory: databaseDirectory, filename: 'auth.sqlite' },
        },
      },
    },
  };
}
