import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import {
  accessGroupsOf,
  CfaccessBackend,
  EXAMPLE_ORG,
  startCfaccessBackend,
} from './__testUtils__/testBackend';
import { TestClock } from './__testUtils__/clock';

describe('identity per Access session, outages, and the warm path', () => {
  let emulator: AccessEmulator;

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [EXAMPLE_ORG],
    });
  });

  afterAll(() => emulator.close());

  afterEach(() => {
    emulator.setEndpointMode('identity', 'ok');
    emulator.setEndpointMode('certs', 'ok');
  });

  const clock = new TestClock();

  function startWith(
    provider: Record<string, string | number> = {},
    catalogFile?: string,
  ) {
    return startCfaccessBackend({
      catalogFile,
      clock,
      provider: {
        teamDomain: emulator.url,
        audience: 'aud',
        identityTimeout: '500ms',
        accessGroups: accessGroupsOf(emulator, ['ada@example.com']),
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              ownershipFromAccessGroups: true,
            },
          ],
        },
        ...provider,
      },
    });
  }

  const successes = (backend: CfaccessBackend) =>
    backend.audited.filter(event => event.outcome === 'success').length;

  describe('with the default sign-in reuse', () => {
    let backend: CfaccessBackend;
    beforeAll(async () => {
      backend = await startWith();
    }, 60_000);

    it('asks get-identity once per session, whatever the concurrency', async () => {
      const { token } = await emulator.signIn('grace@example.com');
      emulator.resetCounts();
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => backend.refresh(token)),
      );
      expect(responses.map(res => res.status)).toEqual(Array(10).fill(200));
      expect(emulator.requestCount('identity')).toBe(1);
    });

    it('makes no network call and no catalog work on a warm refresh', async () => {
      const { token } = await emulator.signIn('ada@example.com');
      const first = await backend.refresh(token);
      expect(first.body.backstageIdentity.identity.ownershipEntityRefs).toEqual(
        expect.arrayContaining(['user:default/ada', 'group:default/platform']),
      );
      emulator.resetCounts();
      const before = successes(backend);
      for (let i = 0; i < 5; i++) {
        const res = await backend.refresh(token);
        expect(res.status).toBe(200);
        expect(res.body.backstageIdentity.identity).toEqual(
          first.body.backstageIdentity.identity,
        );
      }
      expect(emulator.requestCount('identity')).toBe(0);
      expect(emulator.requestCount('certs')).toBe(0);
      expect(successes(backend)).toBe(before);
    });

    it('asks again for a new Access session of the same person', async () => {
      await backend.refresh((await emulator.signIn('linus@example.com')).token);
      emulator.resetCounts();
      const res = await backend.refresh(
        (
          await emulator.signIn('linus@example.com')
        ).token,
      );
      expect(res.status).toBe(200);
      expect(emulator.requestCount('identity')).toBe(1);
    });

    it('signs in with the token claims, marked degraded, when get-identity fails', async () => {
      emulator.setEndpointMode('identity', 'error');
      const { token } = await emulator.signIn('grace@example.com');
      const res = await backend.refresh(token);
      expect(res.status).toBe(200);
      expect(res.body.providerInfo.degraded).toBe(true);
      expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/grace',
      );
    });

    it('signs in with the token claims, marked degraded, when get-identity hangs', async () => {
      emulator.setEndpointMode('identity', 'timeout');
      const { token } = await emulator.signIn('ada@example.com');
      const res = await backend.refresh(token);
      expect(res.status).toBe(200);
      expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/ada',
      );
      expect(res.body.providerInfo.degraded).toBe(true);
      expect(res.body.providerInfo.cfIdentity).toMatchObject({
        email: 'ada@example.com',
        groups: [],
      });
    });
  });

  describe('reusing the catalog for new sessions of a known person', () => {
    it('signs a new session in without the catalog, and a removed User out within signInCacheDuration', async () => {
      const catalogFile = join(
        await mkdtemp(join(tmpdir(), 'cfaccess-org-')),
        'org.yaml',
      );
      const org = await readFile(EXAMPLE_ORG, 'utf8');
      await writeFile(catalogFile, org);
      const backend = await startWith(
        { signInCacheDuration: '3s' },
        catalogFile,
      );
      const first = (await emulator.signIn('grace@example.com')).token;
      expect((await backend.refresh(first)).status).toBe(200);

      // Removed from the source, then from the catalog (which reads the source again).
      await writeFile(
        catalogFile,
        org
          .split(/^---$/m)
          .filter(doc => !/kind: User\s+metadata:\s+name: grace\b/.test(doc))
          .join('---'),
      );
      const graceInCatalog = () =>
        request(backend.server).get(
          '/api/catalog/entities/by-name/user/default/grace',
        );
      const { body: grace } = await graceInCatalog();
      const removed = await request(backend.server).delete(
        `/api/catalog/entities/by-uid/${grace.metadata.uid}`,
      );
      expect(removed.status).toBe(204);

      // The catalog no longer has grace, but its answer of a moment ago is reused...
      clock.advance(1500);
      const second = (await emulator.signIn('grace@example.com')).token;
      const reused = await backend.refresh(second);
      expect(reused.status).toBe(200);
      expect(reused.body.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/grace',
      );

      // ...only until that answer is signInCacheDuration old, whichever session it signed in.
      clock.advance(2000);
      for (const token of [
        first,
        second,
        (await emulator.signIn('grace@example.com')).token,
      ]) {
        const refused = await backend.refresh(token);
        expect(refused.status).toBe(403);
        expect(refused.body.error.reason).toBe('no_user');
      }
      expect((await graceInCatalog()).status).toBe(404);
    }, 60_000);
  });

  describe('with sign-in reuse disabled', () => {
    it('resolves every refresh against the catalog', async () => {
      const backend = await startWith({ signInCacheDuration: 0 });
      const { token } = await emulator.signIn('grace@example.com');
      const before = successes(backend);
      for (let i = 0; i < 3; i++) {
        expect((await backend.refresh(token)).status).toBe(200);
      }
      expect(successes(backend) - before).toBe(3);
    }, 60_000);
  });
});
