import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheServiceFactory } from '@backstage/backend-defaults/cache';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import {
  describeWithRedis,
  replicaBackendConfig,
  startRedis,
} from './__testUtils__/redis';
import {
  CfaccessBackend,
  EXAMPLE_ORG,
  startCfaccessBackend,
} from './__testUtils__/testBackend';

describeWithRedis('two replicas sharing one Redis', () => {
  let emulator: AccessEmulator;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  // One auth database for both replicas, as replicas share one.
  let databaseDirectory: string;
  let replicas: CfaccessBackend[];

  beforeAll(async () => {
    redis = await startRedis();
    databaseDirectory = await mkdtemp(join(tmpdir(), 'cfaccess-auth-db-'));
    emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [EXAMPLE_ORG],
    });
    const startReplica = () =>
      startCfaccessBackend({
        provider: {
          teamDomain: emulator.url,
          audience: 'aud',
          signIn: {
            resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
          },
        },
        config: {
          backend: replicaBackendConfig(redis, databaseDirectory),
        },
        features: [cacheServiceFactory],
      });
    replicas = [await startReplica(), await startReplica()];
  }, 90_000);

  afterAll(() => emulator?.close());

  it('asks get-identity once for one Access session across both replicas', async () => {
    const { token } = await emulator.signIn('grace@example.com');
    emulator.resetCounts();
    const [first, second] = replicas;

    const res1 = await first.refresh(token);
    expect(res1.status).toBe(200);
    expect(emulator.requestCount('identity')).toBe(1);

    const res2 = await second.refresh(token);
    expect(res2.status).toBe(200);
    expect(res2.body.providerInfo.cfIdentity.groups).toEqual(
      res1.body.providerInfo.cfIdentity.groups,
    );
    expect(emulator.requestCount('identity')).toBe(1);
  });

  it('reuses a sign-in resolved by the other replica', async () => {
    const { token } = await emulator.signIn('linus@example.com');
    const [first, second] = replicas;
    const resolved = await first.refresh(token);
    const resolvedBySecond = () =>
      second.audited.filter(e => e.outcome === 'success').length;
    const before = resolvedBySecond();
    const res = await second.refresh(token);
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity).toEqual(
      resolved.body.backstageIdentity.identity,
    );
    expect(res.body.backstageIdentity.identity.ownershipEntityRefs).toContain(
      'group:default/engineering',
    );
    expect(resolvedBySecond()).toBe(before);
  });
});
