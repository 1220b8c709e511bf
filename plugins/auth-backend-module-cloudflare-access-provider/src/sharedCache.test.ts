/** One Redis under several backends: replicas sharing sessions and sign-ins, deployments kept apart, no bearer credential stored, and sign-ins going on through an outage. */
import { TestClock } from './__testUtils__/clock';
import { eventually } from './__testUtils__/eventually';
import { copyOfExampleOrg, EXAMPLE_ORG } from './__testUtils__/paths';
import { describeWithRedis, useSharedRedis } from './__testUtils__/redis';
import { identityOf, useCfaccess } from './__testUtils__/testBackend';
import { CACHE_RETRY_MS } from './cache/resilientCache';

const clock = new TestClock();
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

describeWithRedis('one Redis shared by several backends', () => {
  // One Redis and one auth database for the backends of this describe, as replicas share one.
  const sharedRedis = useSharedRedis();
  const { emulator, useBackend } = useCfaccess(
    {
      identityTimeout: '1s',
      groupsOf: ['ada@example.com', 'linus@example.com'],
    },
    {
      emulator: {
        audience: ['aud-prod', 'aud-staging'],
        catalog: [EXAMPLE_ORG],
      },
      clock,
      sharedRedis,
    },
  );

  describe('two deployments of one Access application', () => {
    const production = useBackend({ audience: 'aud-prod' });
    // Staging's catalog puts Ada in security, not platform.
    const staging = useBackend(
      { audience: 'aud-staging' },
      {
        catalogFile: copyOfExampleOrg(org =>
          org.replace(
            /(name: ada\b[\s\S]*?memberOf: )\[platform\]/,
            '$1[security]',
          ),
        ),
      },
    );

    it("each signs a person in from its own catalog, never from the other one's entries", async () => {
      const { token } = await emulator.signIn('ada@example.com');
      emulator.resetCounts();
      const inProduction = await production.refresh(token);
      const inStaging = await staging.refresh(token);
      expect(inProduction.status).toBe(200);
      expect(inStaging.status).toBe(200);
      expect(identityOf(inProduction).ownershipEntityRefs).toContain(
        'group:default/platform',
      );
      expect(identityOf(inStaging).ownershipEntityRefs).not.toContain(
        'group:default/platform',
      );
      expect(identityOf(inStaging).ownershipEntityRefs).toContain(
        'group:default/security',
      );
      // Each deployment asks Access itself: nothing crosses, not even the identity.
      expect(emulator.requestCount('identity')).toBe(2);
    });

    it('keeps no bearer credential in Redis: no Access token, no Backstage token', async () => {
      const { token } = await emulator.signIn('linus@example.com');
      const issued = await production.refresh(token);
      expect(issued.status).toBe(200);
      const entries = sharedRedis.dump();
      expect(Object.keys(entries).length).toBeGreaterThan(0);
      for (const value of Object.values(entries)) {
        expect(value).not.toMatch(JWT);
        expect(value).not.toContain(issued.body.backstageIdentity.token);
      }
    });
  });

  describe('a Redis outage', () => {
    const replica = () =>
      useBackend({ audience: 'aud-prod', cacheNamespace: 'outage' });
    const replicas = [replica(), replica()];

    it('makes at most one get-identity call per replica for 100 simultaneous first requests of a session', async () => {
      const { token } = await emulator.signIn('linus@example.com');
      emulator.resetCounts();
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => replicas[i % 2].refresh(token)),
      );
      expect(answers.every(res => res.status === 200)).toBe(true);
      // Within a replica the requests share one call; across replicas there is no atomic claim.
      const calls = emulator.requestCount('identity');
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThanOrEqual(2);
      // eslint-disable-next-line no-console
      console.info(
        `100 simultaneous first requests over two replicas: ${calls} get-identity calls`,
      );
    });

    it('keeps signing people in while Redis is down, and shares again once it is back', async () => {
      const [first, second] = replicas;
      const warm = (await emulator.signIn('grace@example.com')).token;
      expect((await first.refresh(warm)).status).toBe(200);

      await sharedRedis.stop();
      // A hang fails here through the request timeout; how fast it answers is the bench's business.
      const during = async (token: string) => {
        const res = await first.refresh(token).timeout(10_000);
        expect(res.status).toBe(200);
        return res;
      };
      await during(warm);
      await during((await emulator.signIn('grace@example.com')).token);
      const newPerson = await during(
        (
          await emulator.signIn('linus@example.com')
        ).token,
      );
      expect(identityOf(newPerson).userEntityRef).toBe('user:default/linus');

      await sharedRedis.start();
      // Sharing resumes by itself: a session one replica saw costs the other no get-identity call.
      const shared = await eventually(
        async () => {
          // Past the pause after a failure, each replica tries Redis again at once.
          clock.advance(CACHE_RETRY_MS);
          const { token } = await emulator.signIn('ada@example.com');
          expect((await first.refresh(token)).status).toBe(200);
          emulator.resetCounts();
          expect((await second.refresh(token)).status).toBe(200);
          return emulator.requestCount('identity') === 0;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(shared).toBe(true);
    }, 60_000);
  });
});

describeWithRedis('two replicas sharing one Redis', () => {
  // One auth database for both replicas, as replicas share one.
  const sharedRedis = useSharedRedis();
  const { emulator, useBackend } = useCfaccess({}, { sharedRedis });
  const [first, second] = [useBackend(), useBackend()];

  it('asks get-identity once for one Access session across both replicas', async () => {
    const { token } = await emulator.signIn('grace@example.com');
    emulator.resetCounts();

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
    const resolved = await first.refresh(token);
    const before = second.successes();
    const res = await second.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res)).toEqual(identityOf(resolved));
    expect(identityOf(res).ownershipEntityRefs).toContain(
      'group:default/engineering',
    );
    expect(second.successes()).toBe(before);
  });
});
