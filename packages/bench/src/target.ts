import { startAccessEmulator } from '@cfaccess/access-emulator';
import type { AccessEmulator } from '@cfaccess/access-emulator';
import { freePort, startBackend } from './backendProcess';
import type { AccessModule, RunningBackend } from './backendProcess';
import type { Cleanup } from './cleanup';
import { startTeamDomainProxy } from './teamDomainProxy';
import { installUpstreamModule } from './upstreamModule';

/** The upstream module only calls https://<teamName>.cloudflareaccess.com. */
const UPSTREAM_TEAM = 'bench';
const UPSTREAM_TEAM_HOST = `${UPSTREAM_TEAM}.cloudflareaccess.com`;
const AUDIENCE = 'bench-aud';
const SIGN_IN = {
  resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
};

/** One module under test: its backend, its own emulator, and how to get a token it accepts. */
export interface Target {
  module: AccessModule;
  refreshUrl: string;
  /** The backend's cheapest route: the ceiling the other phases are measured against. */
  livenessUrl: string;
  emulator: AccessEmulator;
  backend: RunningBackend;
  /** A new Access session for `<person>@example.com`; resolves to its token. */
  signIn(person: string): Promise<string>;
}

/** How a module reaches its emulator, and which tokens it accepts. */
async function accessSetup(
  module: AccessModule,
  emulator: AccessEmulator,
  cleanup: Cleanup,
  workDir: string,
) {
  if (module === 'ours') {
    return { provider: { teamDomain: emulator.url } };
  }
  const proxy = await startTeamDomainProxy({
    host: UPSTREAM_TEAM_HOST,
    target: emulator.url,
    workDir,
  });
  cleanup.add(() => proxy.close());
  return {
    provider: { teamName: UPSTREAM_TEAM },
    preload: [require.resolve('./redirect.cjs')],
    env: {
      NODE_EXTRA_CA_CERTS: proxy.certFile,
      BENCH_UPSTREAM_MODULE: await installUpstreamModule(),
    },
  };
}

/**
 * With BENCH_METRICS=1, both backends record metrics into a real
 * OpenTelemetry SDK and Prometheus exporter, the sample backend's own
 * instrumentation: the cost of metrics is the difference from a run without.
 */
const metricsPreload =
  process.env.BENCH_METRICS === '1'
    ? [require.resolve('../../backend/src/instrumentation.js')]
    : [];

/** Starts a module's emulator (and, for upstream, the team-domain proxy) and backend. */
export async function startTarget(options: {
  module: AccessModule;
  catalogFile: string;
  catalogUsers: string[];
  cleanup: Cleanup;
  workDir: string;
  /** Receives the backend's error log lines when it stops. */
  onBackendErrors(lines: string[]): void;
}): Promise<Target> {
  const { module, cleanup, workDir } = options;
  const emulator = await startAccessEmulator({
    audience: AUDIENCE,
    catalog: [options.catalogFile],
    // The upstream module reaches it as https://bench.cloudflareaccess.com, so that is the issuer.
    issuer: module === 'upstream' ? `https://${UPSTREAM_TEAM_HOST}` : undefined,
  });
  cleanup.add(() => emulator.close());
  const access = await accessSetup(module, emulator, cleanup, workDir);
  const backend = await startBackend({
    module,
    provider: { ...access.provider, audience: AUDIENCE, signIn: SIGN_IN },
    catalogFile: options.catalogFile,
    catalogUsers: options.catalogUsers,
    workDir,
    preload: [...(access.preload ?? []), ...metricsPreload],
    env: {
      ...access.env,
      ...(metricsPreload.length > 0 && {
        OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
      }),
    },
  });
  cleanup.add(() => backend.stop());
  cleanup.add(async () => options.onBackendErrors(await backend.errorLines()));
  return {
    module,
    emulator,
    backend,
    refreshUrl: `${backend.url}/api/auth/cfaccess/refresh`,
    livenessUrl: `${backend.url}/.backstage/health/v1/liveness`,
    signIn: async person =>
      (await emulator.signIn(`${person}@example.com`)).token,
  };
}
