/** Which User each resolver finds through a real backend and catalog, the 403s that name the fix when none or two do, and the start-up failures that name the key. */
import { useResolverBackends } from './__testUtils__/resolvers';
import { identityOf } from './__testUtils__/testBackend';

describe('sign-in resolvers through a real backend and catalog', () => {
  const { emulator, useBackendWith, startWith } = useResolverBackends();

  describe('refusals that name the fix', () => {
    const backend = useBackendWith({});

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
    const backend = useBackendWith({
      signIn: {
        resolvers: [
          { resolver: 'idMatchingUserEntityAnnotation' },
          { resolver: 'emailLocalPartMatchingUserEntityName' },
        ],
      },
    });

    it('matches the Access user id to the annotation', async () => {
      const res = await backend.signIn('someone-else@example.com');
      expect(res.status).toBe(200);
      expect(identityOf(res).userEntityRef).toBe('user:default/ada');
    });

    it('falls through to the local part of the email', async () => {
      const res = await backend.signIn('deploy-bot@example.com');
      expect(res.status).toBe(200);
      expect(identityOf(res).userEntityRef).toBe('user:default/deploy-bot');
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
        const token = await emulator.mintToken({ email, sub: 'odd-email' });
        const res = await backend.withToken(token);
        expect(res.status).toBe(403);
        expect(res.body.error.reason).toBe('no_email');
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

  it.each([
    [
      'naming an unknown resolver and the available ones',
      {
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityAnnotation' }],
        },
      },
      /sign-in resolver 'emailMatchingUserEntityAnnotation' is not available; use one of .*idMatchingUserEntityAnnotation/,
    ],
    [
      'on a misspelt resolver option',
      { resolver: { allowedDomain: ['x'] } },
      /Invalid sign-in resolver options.*allowedDomain/,
    ],
    [
      'when ownershipFromAccessGroups has no accessGroups to map, saying what to write',
      { resolver: { ownershipFromAccessGroups: true } },
      /resolvers\[0\]\.ownershipFromAccessGroups .* accessGroups is empty.*entityRef: group:default/,
    ],
    [
      'naming an accessGroups entry that is not a Group ref',
      { accessGroups: [{ id: 'g-1', entityRef: 'user:default/ada' }] },
      /auth\.providers\.cfaccess\.accessGroups\[0\]\.entityRef is not a Group entity ref/,
    ],
  ])(
    'fails start-up %s',
    async (_name, provider, message) => {
      await expect(startWith(provider)).rejects.toThrow(message);
    },
    60_000,
  );

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
      expect(identityOf(res)).toMatchObject({
        userEntityRef: 'user:default/guest',
        ownershipEntityRefs: ['user:default/guest'],
      });
    }, 60_000);
  });
});
