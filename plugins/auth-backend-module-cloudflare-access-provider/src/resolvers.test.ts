import { JsonObject } from '@backstage/types';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
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
        {
          email: 'ada@example.com',
          name: 'Ada',
          groups: [
            { id: 'g-security', name: 'Security' },
            { id: 'g-gone', name: 'not-in-catalog' },
            // Made by Ada herself, named like a team she is not in.
            { id: 'g-made-by-ada', name: 'ci' },
            // Names no catalog entity could have.
            { id: 'g-blank', name: '' },
            { id: 'g-odd', name: 'a/b:c' },
          ],
        },
        { email: 'twin@example.com', groups: [] },
        {
          email: 'ada@other.example',
          groups: [{ id: 'g-security', name: 'Security' }],
        },
        // Named like the allowed group's id, but another group.
        {
          email: 'mallory@example.com',
          groups: [{ id: 'g-mallory', name: 'g-security' }],
        },
        {
          email: 'grace@example.com',
          groups: [
            { id: 'g-staff', name: 'Staff', email: 'staff@example.com' },
          ],
        },
        { email: 'someone-else@example.com', id: 'access-id-of-ada' },
        { email: 'ghost@example.com', id: 'ghost-id' },
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
      /** The last refusal's details, as the audit trail has them for administrators. */
      details: () => backend.audited.at(-1)?.error ?? '',
    };
  }

  const identity = (res: request.Response) =>
    res.body.backstageIdentity?.identity;

  describe('by email, with every option', () => {
    let backend: Awaited<ReturnType<typeof startWith>>;
    beforeAll(async () => {
      backend = await startWith({
        accessGroups: [
          { id: 'g-security', entityRef: 'group:default/security' },
          { id: 'g-gone', entityRef: 'not-in-catalog' },
          { id: 'g-ci', entityRef: 'group:default/ci' },
        ],
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
              allowedGroups: ['g-security', 'STAFF@example.com'],
              ownershipFromAccessGroups: true,
            },
          ],
        },
      });
    }, 60_000);

    it('adds the catalog Groups accessGroups maps the Access group ids to, and only those', async () => {
      // g-gone maps to a Group missing from the catalog; Ada's own group named "ci" is not g-ci.
      const res = await backend.signIn('ada@example.com');
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/ada');
      expect(identity(res).ownershipEntityRefs.sort()).toEqual([
        'group:default/platform',
        'group:default/security',
        'user:default/ada',
      ]);
    });

    it('lets in a member of an allowed group by its group email', async () => {
      // Past the group check, Grace has no User entity in this catalog.
      const res = await backend.signIn('grace@example.com');
      expect(res.body.error.reason).toBe('no_user');
    });

    it('refuses a group named like an allowed group id', async () => {
      const res = await backend.signIn('mallory@example.com');
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('group');
    });

    it('refuses another email domain with a 403', async () => {
      const res = await backend.signIn('ada@other.example');
      expect(res.status).toBe(403);
      expect(backend.details()).toMatch(
        /ada@other\.example is not in an allowed email domain.*example\.com/,
      );
    });

    it('refuses a person in none of the allowed Access groups with a 403', async () => {
      const res = await backend.signIn('twin@example.com');
      expect(res.status).toBe(403);
      expect(backend.details()).toMatch(
        /none of the Access groups allowed to sign in \(g-security/,
      );
    });

    it('refuses rather than guesses when the groups cannot be read', async () => {
      emulator.setEndpointMode('identity', 'error');
      try {
        const res = await backend.signIn('ada@example.com');
        expect(res.status).toBe(403);
        expect(res.body.error.reason).toBe('groups_unavailable');
      } finally {
        emulator.setEndpointMode('identity', 'ok');
      }
    });

    it('signs a service token with an email subject in like that person, without Access groups', async () => {
      const res = await backend.withToken(
        await emulator.mintServiceToken('by-email.access'),
      );
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/ci-bot');
      expect(identity(res).ownershipEntityRefs.sort()).toEqual([
        'group:default/platform',
        'user:default/ci-bot',
      ]);
    });

    it('signs a service token with an entity ref subject in as exactly that entity, with pinned ownership', async () => {
      const res = await backend.withToken(
        await emulator.mintServiceToken('by-ref.access'),
      );
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/deploy-bot');
      expect(identity(res).ownershipEntityRefs).toEqual(['group:default/ci']);
    });

    it('refuses a service token whose subject is not in the catalog with a 403', async () => {
      const res = await backend.withToken(
        await emulator.mintServiceToken('missing.access'),
      );
      expect(res.status).toBe(403);
      expect(backend.details()).toMatch(
        /missing\.access passed Cloudflare Access but is not a Backstage user.*user:default\/nobody/,
      );
    });
  });

  describe('refusals that name the fix', () => {
    let backend: Awaited<ReturnType<typeof startWith>>;
    beforeAll(async () => {
      backend = await startWith({
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
        },
      });
    }, 60_000);

    it('answers 403, not 500, naming the email, the resolver and the fix', async () => {
      const res = await backend.signIn('nobody@example.com');
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('no_user');
      expect(backend.details()).toMatch(
        /nobody@example\.com passed Cloudflare Access but is not a Backstage user\. emailMatchingUserEntityProfileEmail: No User entity has spec\.profile\.email nobody@example\.com; add a User entity with spec\.profile\.email nobody@example\.com/,
      );
    });

    it('answers 403 naming both Users when two share an email', async () => {
      const res = await backend.signIn('twin@example.com');
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('ambiguous');
      expect(backend.details()).toMatch(
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
      const res = await backend.signIn('someone-else@example.com');
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/ada');
    });

    it('falls through to the local part of the email', async () => {
      const res = await backend.signIn('deploy-bot@example.com');
      expect(res.status).toBe(200);
      expect(identity(res).userEntityRef).toBe('user:default/deploy-bot');
    });

    it.each([
      '@example.com',
      'deploy-botx',
      'deploy-bot@',
      '"deploy-bot@example.com"@example.com',
    ])(
      'refuses the unusable email %j with a 403, never a 500 or another User',
      async email => {
        emulator.setEndpointMode('identity', 'error');
        try {
          const token = await emulator.mintToken({ email, sub: 'odd-email' });
          const res = await backend.withToken(token);
          expect(res.status).toBe(403);
          expect(res.body.error.reason).toBe('no_email');
        } finally {
          emulator.setEndpointMode('identity', 'ok');
        }
      },
    );

    it('answers 403 listing what every resolver tried', async () => {
      const res = await backend.signIn('ghost@example.com');
      expect(res.status).toBe(403);
      expect(backend.details()).toContain(
        'idMatchingUserEntityAnnotation: No User entity has the annotation cloudflare.com/access-user-id: ghost-id',
      );
      expect(backend.details()).toContain(
        'emailLocalPartMatchingUserEntityName: No User entity is named ghost',
      );
    });
  });

  it('fails start-up naming an unknown resolver and the available ones', async () => {
    await expect(
      startWith({
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityAnnotation' }],
        },
      }),
    ).rejects.toThrow(
      /sign-in resolver 'emailMatchingUserEntityAnnotation' is not available; use one of .*idMatchingUserEntityAnnotation/,
    );
  }, 60_000);

  it('fails start-up on a misspelt resolver option', async () => {
    await expect(
      startWith({
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              allowedDomain: ['x'],
            },
          ],
        },
      }),
    ).rejects.toThrow(/Invalid sign-in resolver options.*allowedDomain/);
  }, 60_000);

  it('fails start-up when ownershipFromAccessGroups has no accessGroups to map, saying what to write', async () => {
    await expect(
      startWith({
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              ownershipFromAccessGroups: true,
            },
          ],
        },
      }),
    ).rejects.toThrow(
      /resolvers\[0\]\.ownershipFromAccessGroups .* accessGroups is empty.*entityRef: group:default/,
    );
  }, 60_000);

  it('fails start-up naming an accessGroups entry that is not a Group ref', async () => {
    await expect(
      startWith({
        accessGroups: [{ id: 'g-1', entityRef: 'user:default/ada' }],
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
        },
      }),
    ).rejects.toThrow(
      /auth\.providers\.cfaccess\.accessGroups\[0\]\.entityRef is not a Group entity ref/,
    );
  }, 60_000);

  describe('dangerouslyMatchAccessGroupsByName', () => {
    it('grants and allows by display name only when opted in', async () => {
      const backend = await startWith({
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              allowedGroups: ['Security'],
              ownershipFromAccessGroups: true,
              dangerouslyMatchAccessGroupsByName: true,
            },
          ],
        },
      });
      const res = await backend.signIn('ada@example.com');
      expect(res.status).toBe(200);
      expect(identity(res).ownershipEntityRefs.sort()).toEqual([
        'group:default/ci',
        'group:default/platform',
        'group:default/security',
        'user:default/ada',
      ]);
    }, 60_000);
  });

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
      const res = await backend.signIn('guest@example.com');
      expect(res.status).toBe(200);
      expect(identity(res)).toMatchObject({
        userEntityRef: 'user:default/guest',
        ownershipEntityRefs: ['user:default/guest'],
      });
    }, 60_000);
  });
});
