/** The profile-email resolver's options through a real backend and catalog: allowed domains and Access groups, ownership from Access groups, service tokens, and groups matched by name only when opted in. */
import { useResolverBackends } from './__testUtils__/resolvers';
import { identityOf, useCfaccess } from './__testUtils__/testBackend';

describe('sign-in resolvers through a real backend and catalog', () => {
  const { emulator, useBackendWith, startWith } = useResolverBackends();

  describe('by email, with every option', () => {
    const backend = useBackendWith({
      serviceTokens: [
        { token: 'by-email.access', subject: 'ci-bot@example.com' },
        {
          token: 'by-ref.access',
          subject: 'user:default/deploy-bot',
          ownershipEntityRefs: ['group:default/ci'],
        },
        { token: 'missing.access', subject: 'user:default/nobody' },
      ],
      accessGroups: [
        { id: 'g-security', entityRef: 'group:default/security' },
        { id: 'g-gone', entityRef: 'not-in-catalog' },
        { id: 'g-ci', entityRef: 'group:default/ci' },
      ],
      resolver: {
        allowedDomains: ['example.com'],
        allowedGroups: ['g-security', 'STAFF@example.com'],
        ownershipFromAccessGroups: true,
      },
    });

    it('adds the catalog Groups accessGroups maps the Access group ids to, and only those', async () => {
      // g-gone maps to a Group missing from the catalog; Ada's own group named "ci" is not g-ci.
      const res = await backend.signIn('ada@example.com');
      expect(res.status).toBe(200);
      expect(identityOf(res).userEntityRef).toBe('user:default/ada');
      expect(identityOf(res).ownershipEntityRefs.sort()).toEqual([
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
      const res = await backend.signIn('ada@example.com');
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('groups_unavailable');
    });

    it('signs a service token with an email subject in like that person, without Access groups', async () => {
      const res = await backend.withToken(
        await emulator.mintServiceToken('by-email.access'),
      );
      expect(res.status).toBe(200);
      expect(identityOf(res).userEntityRef).toBe('user:default/ci-bot');
      expect(identityOf(res).ownershipEntityRefs.sort()).toEqual([
        'group:default/platform',
        'user:default/ci-bot',
      ]);
    });

    it('signs a service token with an entity ref subject in as exactly that entity, with pinned ownership', async () => {
      const res = await backend.withToken(
        await emulator.mintServiceToken('by-ref.access'),
      );
      expect(res.status).toBe(200);
      expect(identityOf(res).userEntityRef).toBe('user:default/deploy-bot');
      expect(identityOf(res).ownershipEntityRefs).toEqual(['group:default/ci']);
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

  describe('dangerouslyMatchAccessGroupsByName', () => {
    it('grants and allows by display name only when opted in', async () => {
      const backend = await startWith({
        resolver: {
          allowedGroups: ['Security'],
          ownershipFromAccessGroups: true,
          dangerouslyMatchAccessGroupsByName: true,
        },
      });
      const res = await backend.signIn('ada@example.com');
      expect(res.status).toBe(200);
      expect(identityOf(res).ownershipEntityRefs.sort()).toEqual([
        'group:default/ci',
        'group:default/platform',
        'group:default/security',
        'user:default/ada',
      ]);
    }, 60_000);
  });
});

describe('allowedDomains matches the whole domain', () => {
  const { emulator, useBackend } = useCfaccess(
    // provisionUsers signs in anyone allowedDomains lets through, so the domain check alone decides.
    { resolver: { allowedDomains: ['example.com'], provisionUsers: true } },
    { emulator: { audience: 'aud' } },
  );
  const backend = useBackend();

  const signIn = async (email: string) =>
    backend.refresh((await emulator.signIn(email)).token);

  it('signs in a person of the allowed domain (the control)', async () => {
    const res = await signIn('x@example.com');
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/x_example.com');
  });

  it.each(['x@notexample.com', 'x@sub.example.com'])(
    'refuses %s',
    async email => {
      const res = await signIn(email);
      expect(res.status).toBe(403);
      expect(res.body.error.reason).toBe('domain');
      expect(backend.audited.at(-1)?.error).toContain(
        `${email} is not in an allowed email domain`,
      );
    },
  );
});
