import { JsonObject } from '@backstage/types';
import {
  AccessEmulator,
  startAccessEmulator,
} from '@cfaccess/access-emulator';
import request from 'supertest';
import {
  FIXTURE_CATALOG,
  startCfaccessBackend,
} from './__testUtils__/testBackend';

describe('sign-in resolvers through a real backend and catalog', () => {
  let emulator: AccessEmulator;

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      users: [
        // Access groups that differ from the catalog memberOf on purpose.
        { email: 'ada@example.com', name: 'Ada', groups: ['security', 'not-in-catalog'] },
        { email: 'twin@example.com', groups: [] },
        { email: 'ada@other.example', groups: ['security'] },
      ],
    });
  });

  afterAll(() => emulator.close());

  async function startWith(provider: JsonObject) {
    const backend = await startCfaccessBackend({
      provider: { teamDomain: emulator.url, audience: 'aud', ...provider },
      catalogFile: FIXTURE_CATALOG,
      readyUser: 'deploy-bot',
    });
    return {
      async signIn(email: string) {
        const { token } = await emulator.signIn(email);
        return backend.refresh(token);
      },
      withToken: (token: string) => backend.refresh(token),
    };
  }

  const identity = (res: request.Response) => res.body.backstageIdentity?.identity;

  describe('by email, with every option', () => {
    let backend: Awaited<ReturnType<typeof startWith>>;
    beforeAll(async () => {
      backend = await startWith({
        serviceTokens: [
          { token: 'by-email.access', subject: 'ci-bot@example.com' },
          {
            token: 'by-ref.access',
            subject: 'user:default/deploy-bot',
            ownershipEntityRefs: ['group:default/ci'],
          },
          { token: 'missing.access', subject: 'user:default/nobody' },
        ],
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              allowedDomains: ['example.com'],
              allowedGroups: ['security'],
              ownershipFromAccessGroups: true,
            },
          ],
        },
      });
    }, 60_000);

    it('adds the catalog Groups named like the Access groups to ownership', async () => {
      const res = await backend.signIn('ada@example.com');
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/ada');
      expect(identity(res).ownershipEntityRefs.sort()).toEqual([
        'group:default/platform',
        'group:default/security',
        'user:default/ada',
      ]);
    });

    it('refuses another email domain with a 403', async () => {
      const res = await backend.signIn('ada@other.example');
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(
        /ada@other\.example is not in an allowed email domain.*example\.com/,
      );
    });

    it('refuses a person in none of the allowed Access groups with a 403', async () => {
      const res = await backend.signIn('twin@example.com');
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/none of the Access groups allowed to sign in \(security/);
    });

    it('refuses rather than guesses when the groups cannot be read', async () => {
      const token = await emulator.mintToken({ email: 'ada@example.com', sub: 'no-session' });
      const res = await backend.withToken(token);
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('groups_unavailable');
    });

    it('signs a service token with an email subject in like that person, without Access groups', async () => {
      const res = await backend.withToken(await emulator.mintServiceToken('by-email.access'));
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/ci-bot');
      expect(identity(res).ownershipEntityRefs.sort()).toEqual([
        'group:default/platform',
        'user:default/ci-bot',
      ]);
    });

    it('signs a service token with an entity ref subject in as exactly that entity, with pinned ownership', async () => {
      const res = await backend.withToken(await emulator.mintServiceToken('by-ref.access'));
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/deploy-bot');
      expect(identity(res).ownershipEntityRefs).toEqual(['group:default/ci']);
    });

    it('refuses a service token whose subject is not in the catalog with a 403', async () => {
      const res = await backend.withToken(await emulator.mintServiceToken('missing.access'));
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(
        /missing\.access passed Cloudflare Access but is not a Backstage user.*user:default\/nobody/,
      );
    });
  });

  describe('refusals that name the fix', () => {
    let backend: Awaited<ReturnType<typeof startWith>>;
    beforeAll(async () => {
      backend = await startWith({
        signIn: { resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] },
      });
    }, 60_000);

    it('answers 403, not 500, naming the email, the resolver and the fix', async () => {
      const res = await backend.signIn('nobody@example.com');
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('no_user');
      expect(res.body.error.message).toMatch(
        /nobody@example\.com passed Cloudflare Access but is not a Backstage user\. emailMatchingUserEntityProfileEmail: No User entity has spec\.profile\.email nobody@example\.com; add a User entity with spec\.profile\.email nobody@example\.com/,
      );
    });

    it('answers 403 naming both Users when two share an email', async () => {
      const res = await backend.signIn('twin@example.com');
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('ambiguous');
      expect(res.body.error.message).toMatch(
        /user:default\/twin-(one|two) and user:default\/twin-(one|two) all match/,
      );
    });
  });

  describe('by annotation, then by the local part', () => {
    let backend: Awaited<ReturnType<typeof startWith>>;
    beforeAll(async () => {
      backend = await startWith({
        signIn: {
          resolvers: [
            { resolver: 'idMatchingUserEntityAnnotation' },
            { resolver: 'emailLocalPartMatchingUserEntityName' },
          ],
        },
      });
    }, 60_000);

    it('matches the Access user id to the annotation', async () => {
      const token = await emulator.mintToken({
        email: 'someone-else@example.com',
        sub: 'access-id-of-ada',
      });
      const res = await backend.withToken(token);
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/ada');
    });

    it('falls through to the local part of the email', async () => {
      const token = await emulator.mintToken({ email: 'deploy-bot@example.com', sub: 'x' });
      const res = await backend.withToken(token);
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/deploy-bot');
    });

    it('answers 403 listing what every resolver tried', async () => {
      const token = await emulator.mintToken({ email: 'ghost@example.com', sub: 'ghost-id' });
      const res = await backend.withToken(token);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('idMatchingUserEntityAnnotation: No User entity has the annotation cloudflare.com/access-user-id: ghost-id');
      expect(res.body.error.message).toContain('emailLocalPartMatchingUserEntityName: No User entity is named ghost');
    });
  });

  it('fails start-up naming an unknown resolver and the available ones', async () => {
    await expect(
      startWith({ signIn: { resolvers: [{ resolver: 'emailMatchingUserEntityAnnotation' }] } }),
    ).rejects.toThrow(
      /sign-in resolver 'emailMatchingUserEntityAnnotation' is not available; use one of .*idMatchingUserEntityAnnotation/,
    );
  }, 60_000);

  it('fails start-up on a misspelt resolver option', async () => {
    await expect(
      startWith({
        signIn: { resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail', allowedDomain: ['x'] }] },
      }),
    ).rejects.toThrow(/Invalid sign-in resolver options.*allowedDomain/);
  }, 60_000);

  describe('dangerouslyAllowSignInWithoutUserInCatalog', () => {
    it('signs in a person with no User entity only when opted in', async () => {
      const backend = await startWith({
        signIn: {
          resolvers: [
            {
              resolver: 'emailLocalPartMatchingUserEntityName',
              dangerouslyAllowSignInWithoutUserInCatalog: true,
            },
          ],
        },
      });
      const token = await emulator.mintToken({ email: 'guest@example.com', sub: 'guest' });
      const res = await backend.withToken(token);
      expect(res.status).toBe(200);
      expect(identity(res)).toMatchObject({
        userEntityRef: 'user:default/guest',
        ownershipEntityRefs: ['user:default/guest'],
      });
    }, 60_000);
  });
});
