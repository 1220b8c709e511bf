import { execFileSync } from 'node:child_process';

/**
 * The PostgreSQL the deployment test runs against: Debian's postgresql
 * cluster on this machine, which .ci/run starts (e2e/support/start-postgres.sh).
 */
export const POSTGRES = {
  host: process.env.E2E_POSTGRES_HOST ?? '127.0.0.1',
  port: Number(process.env.E2E_POSTGRES_PORT ?? 5432),
  user: process.env.E2E_POSTGRES_USER ?? 'postgres',
  password: process.env.E2E_POSTGRES_PASSWORD ?? 'postgres',
};

/** Whether PostgreSQL accepts connections now (pg_isready comes with Debian's postgresql). */
export function isPostgresUp(): boolean {
  try {
    execFileSync(
      'pg_isready',
      ['-q', '-h', POSTGRES.host, '-p', String(POSTGRES.port), '-t', '2'],
      { stdio: 'ignore' },
    );
    return true;
  } catch {
    return false;
  }
}

/** Restarts the local cluster, as a database failover or upgrade would; needs root. */
export function restartPostgres(): void {
  // pg_lsclusters -h: "15 main 5432 online postgres /var/lib/... /var/log/..."
  const [version, cluster] = execFileSync('pg_lsclusters', ['-h'], {
    encoding: 'utf8',
  })
    .trim()
    .split(/\s+/);
  execFileSync('pg_ctlcluster', [version, cluster, 'restart'], {
    stdio: 'ignore',
  });
}
