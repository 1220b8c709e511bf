/** The databases the integration tests run on: a file SQLite always, PostgreSQL when one answers. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonObject } from '@backstage/config';
import knexFactory from 'knex';

/** A fresh database for one test backend and its restarts; `dispose` removes it. */
export type TestDatabase = {
  /** The `backend.database` config. */
  config: JsonObject;
  dispose(): Promise<void>;
};

/** A SQLite database in files of a new temp directory, so it survives a backend restart. */
export async function sqliteFileDatabase(): Promise<TestDatabase> {
  const directory = await mkdtemp(join(tmpdir(), 'cfaccess-provisioning-'));
  return {
    config: { client: 'better-sqlite3', connection: { directory } },
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
}

// CI starts PostgreSQL here before `npm test` (e2e/support/start-postgres.sh).
const POSTGRES_URL =
  process.env.CFACCESS_TEST_POSTGRES_URL ??
  'postgres://postgres:postgres@127.0.0.1:5432/postgres';

function adminKnex() {
  return knexFactory({
    client: 'pg',
    connection: POSTGRES_URL,
    acquireConnectionTimeout: 2000,
  });
}

/**
 * Whether PostgreSQL accepts connections at CFACCESS_TEST_POSTGRES_URL
 * (default: CI's 127.0.0.1:5432); synchronous, so it can choose the tests.
 */
export function isPostgresAvailable(): boolean {
  const { hostname, port } = new URL(POSTGRES_URL);
  try {
    execFileSync(
      'pg_isready',
      ['-q', '-h', hostname, '-p', port || '5432', '-t', '2'],
      { stdio: 'ignore' },
    );
    return true;
  } catch {
    return false;
  }
}

/** A new PostgreSQL database per plugin, under a prefix of its own. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const prefix = `cfaccess_test_${randomBytes(4).toString('hex')}_`;
  const { hostname, port, username, password } = new URL(POSTGRES_URL);
  return {
    config: {
      client: 'pg',
      prefix,
      connection: {
        host: hostname,
        port: Number(port || 5432),
        user: decodeURIComponent(username),
        password: decodeURIComponent(password),
      },
    },
    async dispose() {
      const knex = adminKnex();
      try {
        const { rows } = await knex.raw(
          'select datname from pg_database where datname like ?',
          [`${prefix}%`],
        );
        for (const { datname } of rows) {
          await knex.raw('drop database if exists ?? with (force)', [datname]);
        }
      } finally {
        await knex.destroy();
      }
    },
  };
}
