import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheServiceFactory } from '@backstage/backend-defaults/cache';
import { JsonObject } from '@backstage/types';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
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
import { TestClock } from './__testUtils__/clock';
import { eventually } from './__testUtils__/eventually';
import { CACHE_RETRY_MS } from './cache/resilientCache';

const clock = new TestClock();
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

describeWithRedis('one Redis shared by several backends', () => {
  let emulator: AccessEmulator;
  let redis: TestRedis;
  // One auth database for the backends of this file, as replicas share one.
  let databaseDirectory: string;

  beforeAll(async () => {
    redis = await startRedis();
    databaseDirectory = await mkdtemp(join(tmpdir(), 'cfaccess-auth-db-'));
    emulator = await startAccessEmulator({
      audience: ['aud-prod', 'aud-staging'],
      catalog: [EXAMPLE_ORG],
    });
  });

  afterAll(() => emulator?.close());

  function startOnRedis(provider: JsonObject, catalogFile?: string) {
    return startCfaccessBackend({
      catalogFile,
      clock,
      provider: {
        teamDomain: emulator.url,
        identityTimeout: '1s',
        accessGroups: accessGroupsOf(emulator, [
          'ada@example.com',
          'linus@example.com',
        ]),
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
        },
        ...provider,
      },
      config: {
        backend: replicaBackendConfig(redis, databaseDirectory),
      },
      features: [cacheServiceFactory],
    });
  }

  describe('two deployments of one Access application', () => {
    let production: CfaccessBackend;
    let staging: CfaccessBackend;

    beforeAll(async () => {
      // Staging's catalog puts Ada in security, not platform.
      const stagingOrg = join(
        await mkdtemp(join(tmpdir(), 'cfaccess-staging-')),
        'org.yaml',
      );
      const org = await readFile(EXAMPLE_ORG, 'utf8');
      await writeFile(
        stagingOrg,
        org.replace(
          /(name: ada\b[\s\S]*?memberOf: )\[platform\]/,
          '$1[security]',
        ),
      );
      production = await startOnRedis({ audience: 'aud-prod' });
      staging = await startOnRedis({ audience: 'aud-staging' }, stagingOrg);
    }, 90_000);

    it("each signs a person in from its own catalog, never from the other one's entries", async () => {
      const { token } = await emulator.signIn('ada@example.com');
      emulator.resetCounts();
      const inProduction = await production.refresh(token);
      const inStaging = await staging.refresh(token);
      expect(inProduction.status).toBe(200);
      expect(inStaging.status).toBe(200);
      expect(
        inProduction.body.backstageIdentity.identity.ownershipEntityRefs,
      ).toContain('group:default/platform');
      expect(
        inStaging.body.backstageIdentity.identity.ownershipEntityRefs,
      ).not.toContain('group:default/platform');
      expect(
        inStaging.body.backstageIdentity.identity.ownershipEntityRefs,
      ).toContain('group:default/security');
      // Each deployment asks Access itself: nothing crosses, not even the identity.
      expect(emulator.requestCount('identity')).toBe(2);
    });

    it('keeps no bearer credential in Redis: no Access token, no Backstage token', async () => {
      const { token } = await emulator.signIn('linus@example.com');
      const issued = await production.refresh(token);
      expect(issued.status).toBe(200);
      const entries = redis.dump();
      expect(Object.keys(entries).length).toBeGreaterThan(0);
      for (const value of Object.values(entries)) {
        expect(value).not.toMatch(JWT);
        expect(value).not.toContain(issued.body.backstageIdentity.token);
      }
    });
  });

  describe('a Redis outage', () => {
    let replicas: CfaccessBackend[];

    beforeAll(async () => {
      replicas = [
        await startOnRedis({ audience: 'aud-prod', cacheNamespace: 'outage' }),
        await startOnRedis({ audience: 'aud-prod', cacheNamespace: 'outage' }),
      ];
    }, 90_000);

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

      await redis.stop();
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
      expect(newPerson.body.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/linus',
      );

      await redis.start();
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
