/** What a Redis writer can do: write entries of every kind straight into the shared cache. None decides who signs in. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricsServiceFactory } from '@backstage/backend-defaults/alpha';
import { cacheServiceFactory } from '@backstage/backend-defaults/cache';
import { CacheManager } from '@backstage/backend-defaults/cache';
import { ConfigReader } from '@backstage/config';
import { CacheService } from '@backstage/backend-plugin-api';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { DataPoint, MeterProvider } from '@opentelemetry/sdk-metrics';
import { decodeJwt } from 'jose';
import { readCloudflareAccessConfig } from './config';
import { SessionKeys } from './cache/sessionKeys';
import { CloudflareAccessClaims } from './types';
import {
  describeWithRedis,
  replicaBackendConfig,
  startRedis,
  TestRedis,
} from './__testUtils__/redis';
import {
  accessGroupsOf,
  CfaccessBackend,
  EXAMPLE_ORG,
  startCfaccessBackend,
} from './__testUtils__/testBackend';

describeWithRedis('forged entries in the shared cache', () => {
  let emulator: AccessEmulator;
  let redis: TestRedis;
  let databaseDirectory: string;
  let backend: CfaccessBackend;
  let provider: Record<string, any>;
  // What someone with write access to Redis uses: a client of their own on the same store.
  let redisWriter: CacheService;
  let keys: SessionKeys;
  // A real OpenTelemetry SDK behind Backstage's metrics service, read without a server.
  const exporter = new PrometheusExporter({ preventServerStart: true });

  const start = () =>
    startCfaccessBackend({
      provider,
      config: { backend: replicaBackendConfig(redis, databaseDirectory) },
      features: [cacheServiceFactory, metricsServiceFactory],
    });

  /** The shared-cache reads counted so far with this result. */
  async function sharedReads(result: string): Promise<number> {
    const { resourceMetrics } = await exporter.collect();
    return resourceMetrics.scopeMetrics
      .flatMap(scope => scope.metrics)
      .filter(metric => metric.descriptor.name === 'cfaccess.cache.reads')
      .flatMap(metric => metric.dataPoints as DataPoint<number>[])
      .filter(
        point =>
          point.attributes['cfaccess.cache.layer'] === 'shared' &&
          point.attributes['cfaccess.cache.result'] === result,
      )
      .reduce((sum, point) => sum + point.value, 0);
  }

  beforeAll(async () => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
    redis = await startRedis();
    databaseDirectory = await mkdtemp(join(tmpdir(), 'cfaccess-auth-db-'));
    emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [EXAMPLE_ORG],
    });
    provider = {
      teamDomain: emulator.url,
      audience: 'aud',
      accessGroups: accessGroupsOf(emulator, [
        'ada@example.com',
        'grace@example.com',
      ]),
      signIn: {
        resolvers: [
          {
            resolver: 'emailMatchingUserEntityProfileEmail',
            ownershipFromAccessGroups: true,
          },
        ],
      },
    };
    backend = await start();
    keys = new SessionKeys(
      readCloudflareAccessConfig(new ConfigReader(provider)),
    );
    redisWriter = CacheManager.fromConfig(
      new ConfigReader({
        backend: { cache: { store: 'redis', connection: redis.url } },
      }),
    ).forPlugin('auth');
  }, 90_000);

  afterAll(async () => {
    await emulator?.close();
    metrics.disable();
  });

  const claimsOf = (token: string) =>
    decodeJwt(token) as unknown as CloudflareAccessClaims;
  const identityOf = (res: { body: any }) =>
    res.body.backstageIdentity.identity;

  it('ignores a forged sign-in reuse entry: the person signs in as themselves', async () => {
    const { token } = await emulator.signIn('linus@example.com');
    await redisWriter.set(
      keys.session('sign-in', claimsOf(token), 'cfaccess'),
      {
        userEntityRef: 'user:default/ada',
        ownershipEntityRefs: ['user:default/ada', 'group:default/platform'],
        reuseUntil: Date.now() + 60_000,
      },
      { ttl: 60_000 },
    );
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/linus');
    expect(identityOf(res).ownershipEntityRefs).not.toContain(
      'group:default/platform',
    );
  });

  it('ignores a forged identity, with the groups of another person', async () => {
    const { token } = await emulator.signIn('linus@example.com');
    const platform = emulator
      .identityOf('ada@example.com')
      .groups.find(group => group.name === 'platform')!;
    await redisWriter.set(
      keys.session('identity', claimsOf(token)),
      {
        identity: {
          id: claimsOf(token).sub,
          name: 'Linus',
          email: 'linus@example.com',
          groups: [
            { id: platform.id, name: platform.name, email: platform.email },
          ],
        },
        degraded: false,
      },
      { ttl: 60_000 },
    );
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).ownershipEntityRefs).not.toContain(
      'group:default/platform',
    );
  });

  it('ignores a forged catalog answer naming another User', async () => {
    const { token } = await emulator.signIn('grace@example.com');
    await redisWriter.set(
      keys.answer('catalog-user', {
        filter: { 'spec.profile.email': 'grace@example.com' },
      }),
      {
        value: {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'User',
          metadata: { name: 'ada', namespace: 'default' },
          spec: { memberOf: ['platform'] },
        },
        at: Date.now(),
      },
      { ttl: 60_000 },
    );
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/grace');
  });

  it('ignores a forged ended-marker: the session still signs in', async () => {
    const { token } = await emulator.signIn('ada@example.com');
    await redisWriter.set(
      keys.session('identity', claimsOf(token)),
      { ended: true, for: 'good' },
      { ttl: 60_000 },
    );
    const rejectedBefore = await sharedReads('rejected');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/ada');
    // Counted for the operator's alert on forged entries.
    expect(await sharedReads('rejected')).toBe(rejectedBefore + 1);
    expect(await sharedReads('hit')).toBeGreaterThan(0);
  });

  it('ignores an entry signed for another key, and a replica that restarts still reads its peers’ entries', async () => {
    const { token } = await emulator.signIn('ada@example.com');
    const signedIn = await backend.refresh(token);
    expect(signedIn.status).toBe(200);
    const adaKey = keys.session('sign-in', claimsOf(token), 'cfaccess');
    const adaEntry = await redisWriter.get(adaKey);
    expect(adaEntry).toEqual({
      json: expect.any(String),
      mac: expect.any(String),
    });

    // Ada's authentic entry copied under Linus's key.
    const linus = await emulator.signIn('linus@example.com');
    await redisWriter.set(
      keys.session('sign-in', claimsOf(linus.token), 'cfaccess'),
      adaEntry!,
      { ttl: 60_000 },
    );
    const copied = await backend.refresh(linus.token);
    expect(identityOf(copied).userEntityRef).toBe('user:default/linus');

    // A new replica (or this one after a restart) reads the same secret from the shared database.
    const replica = await start();
    emulator.resetCounts();
    const again = await replica.refresh(token);
    expect(identityOf(again).userEntityRef).toBe('user:default/ada');
    expect(emulator.requestCount('identity')).toBe(0);
    await replica.stop();
  });
});
