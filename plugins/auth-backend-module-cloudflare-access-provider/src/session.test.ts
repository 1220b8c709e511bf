/** get-identity asked once per Access session, degraded sign-ins while it fails, the warm path that asks nothing, and the catalog's answer reused within signInCacheDuration. */
import { readFile, writeFile } from 'node:fs/promises';
import request from 'supertest';
import { TestClock } from './__testUtils__/clock';
import { copyOfExampleOrg } from './__testUtils__/paths';
import { identityOf, useCfaccess } from './__testUtils__/testBackend';

describe('identity per Access session, outages, and the warm path', () => {
  const clock = new TestClock();
  const { emulator, useBackend, startBackend } = useCfaccess(
    {
      identityTimeout: '500ms',
      groupsOf: ['ada@example.com'],
      resolver: { ownershipFromAccessGroups: true },
    },
    { clock },
  );

  describe('with the default sign-in reuse', () => {
    const backend = useBackend();

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
      expect(identityOf(first).ownershipEntityRefs).toEqual(
        expect.arrayContaining(['user:default/ada', 'group:default/platform']),
      );
      emulator.resetCounts();
      const before = backend.successes();
      for (let i = 0; i < 5; i++) {
        const res = await backend.refresh(token);
        expect(res.status).toBe(200);
        expect(identityOf(res)).toEqual(identityOf(first));
      }
      expect(emulator.requestCount('identity')).toBe(0);
      expect(emulator.requestCount('certs')).toBe(0);
      expect(backend.successes()).toBe(before);
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
      expect(identityOf(res).userEntityRef).toBe('user:default/grace');
    });

    it('signs in with the token claims, marked degraded, when get-identity hangs', async () => {
      emulator.setEndpointMode('identity', 'timeout');
      const { token } = await emulator.signIn('ada@example.com');
      const res = await backend.refresh(token);
      expect(res.status).toBe(200);
      expect(identityOf(res).userEntityRef).toBe('user:default/ada');
      expect(res.body.providerInfo.degraded).toBe(true);
      expect(res.body.providerInfo.cfIdentity).toMatchObject({
        email: 'ada@example.com',
        groups: [],
      });
    });
  });

  describe('reusing the catalog for new sessions of a known person', () => {
    it('signs a new session in without the catalog, and a removed User out within signInCacheDuration', async () => {
      const catalogFile = copyOfExampleOrg();
      const org = await readFile(catalogFile, 'utf8');
      const backend = await startBackend(
        { signInCacheDuration: '3s' },
        { catalogFile },
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
      expect(identityOf(reused).userEntityRef).toBe('user:default/grace');

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
      const backend = await startBackend({ signInCacheDuration: 0 });
      const { token } = await emulator.signIn('grace@example.com');
      const before = backend.successes();
      for (let i = 0; i < 3; i++) {
        expect((await backend.refresh(token)).status).toBe(200);
      }
      expect(backend.successes() - before).toBe(3);
    }, 60_000);
  });
});
