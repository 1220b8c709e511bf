/** What a Redis writer can do: write entries of every kind straight into the shared cache. None decides who signs in. */
import { metricsServiceFactory } from '@backstage/backend-defaults/alpha';
import { CacheManager } from '@backstage/backend-defaults/cache';
import { CacheService } from '@backstage/backend-plugin-api';
import { ConfigReader } from '@backstage/config';
import { decodeJwt } from 'jose';
import { readCloudflareAccessConfig } from './config';
import { SessionKeys } from './cache/sessionKeys';
import { CloudflareAccessClaims } from './types';
import { useRecordedMetrics } from './__testUtils__/metrics';
import { describeWithRedis, useSharedRedis } from './__testUtils__/redis';
import { identityOf, useCfaccess } from './__testUtils__/testBackend';

describeWithRedis('forged entries in the shared cache', () => {
  const recorded = useRecordedMetrics();
  const sharedRedis = useSharedRedis();
  const { emulator, useBackend, startBackend } = useCfaccess(
    {
      groupsOf: ['ada@example.com', 'grace@example.com'],
      resolver: { ownershipFromAccessGroups: true },
    },
    { sharedRedis, features: [metricsServiceFactory] },
  );
  const backend = useBackend();
  // What someone with write access to Redis uses: a client of their own on the same store.
  let redisWriter: CacheService;
  let keys: SessionKeys;

  beforeAll(() => {
    keys = new SessionKeys(
      readCloudflareAccessConfig(new ConfigReader(backend.provider)),
    );
    redisWriter = CacheManager.fromConfig(
      new ConfigReader({
        backend: { cache: { store: 'redis', connection: sharedRedis.url } },
      }),
    ).forPlugin('auth');
  });

  /** The shared-cache reads counted so far with this result. */
  const sharedReads = (result: string) =>
    recorded.count('cfaccess.cache.reads', {
      'cfaccess.cache.layer': 'shared',
      'cfaccess.cache.result': result,
    });

  const claimsOf = (token: string) =>
    decodeJwt(token) as unknown as CloudflareAccessClaims;

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
    const replica = await startBackend();
    emulator.resetCounts();
    const again = await replica.refresh(token);
    expect(identityOf(again).userEntityRef).toBe('user:default/ada');
    expect(emulator.requestCount('identity')).toBe(0);
    await replica.stop();
  });
});
