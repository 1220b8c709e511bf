/** The get-identity client on its own, against the emulator's get-identity: each of Access's answers, and what is remembered of it. */
import { useIdentityClients } from './__testUtils__/identityClient';

describe('AccessIdentityClient', () => {
  const { emulator, clock, client, claimsOf, signIn, outcome, calls } =
    useIdentityClients();

  it("takes the answer's name and groups when it names the token's person, keeping the token's email", async () => {
    const { token, claims } = await signIn('grace@example.com');
    const expected = emulator.identityOf('grace@example.com');
    const { identity, degraded } = await client().getIdentity(token, {
      ...claims,
      // Access keeps the case the person typed; the answer may differ only in case.
      email: 'Grace@Example.com',
    });
    expect(degraded).toBe(false);
    expect(identity).toEqual({
      id: expected.id,
      name: expected.name,
      email: 'Grace@Example.com',
      groups: expected.groups.map(({ id, name, email }) => ({
        id,
        name,
        email: email ?? '',
      })),
    });
    expect(identity.groups.length).toBeGreaterThan(0);
  });

  it("degrades to the token's claims when the answer has the token's sub but another email", async () => {
    const grace = await signIn('grace@example.com');
    const token = await emulator.mintToken({
      email: 'linus@example.com',
      sub: grace.sub,
      identity_nonce: grace.identityNonce,
    });
    const { identity, degraded } = await client().getIdentity(
      token,
      claimsOf(token),
    );
    expect(degraded).toBe(true);
    expect(identity).toEqual({
      id: grace.sub,
      name: 'linus@example.com',
      email: 'linus@example.com',
      groups: [],
    });
  });

  it("degrades when the answer has the token's email but another sub", async () => {
    const grace = await signIn('grace@example.com');
    const token = await emulator.mintToken({
      email: 'grace@example.com',
      sub: 'another-access-user',
      identity_nonce: grace.identityNonce,
    });
    const { identity, degraded } = await client().getIdentity(
      token,
      claimsOf(token),
    );
    expect(degraded).toBe(true);
    expect(identity.groups).toEqual([]);
    expect(identity.id).toBe('another-access-user');
  });

  it('refuses a session Access ended (its 401), and remembers that past the check interval', async () => {
    const identities = client({ checkIntervalMs: 1 });
    const { token, identityNonce } = await signIn('ada@example.com');
    emulator.endSession(identityNonce);
    expect(await outcome(identities, token)).toBe('session_ended');
    clock.advance(5);
    expect(await outcome(identities, token)).toBe('session_ended');
    expect(emulator.requestCount('identity')).toBe(1);
  });

  it("refuses a session Access's login redirect answers for", async () => {
    emulator.setEndpointMode('identity', 'login-redirect');
    const { token } = await signIn('ada@example.com');
    expect(await outcome(client(), token)).toBe('session_ended');
  });

  it('refuses a 403 from something in between only until the session is checked again', async () => {
    const identities = client({ checkIntervalMs: 1 });
    const { token } = await signIn('ada@example.com');
    emulator.setEndpointMode('identity', 'forbidden');
    expect(await outcome(identities, token)).toBe('session_unconfirmed');
    emulator.setEndpointMode('identity', 'ok');
    clock.advance(5);
    expect(await outcome(identities, token)).toBe('signed in');
    expect(emulator.requestCount('identity')).toBe(2);
  });

  it.each(['error', 'timeout', 'error-body'] as const)(
    "signs in from the token's claims alone when get-identity answers %s",
    async mode => {
      emulator.setEndpointMode('identity', mode);
      const { token, claims, sub } = await signIn('ada@example.com');
      const { identity, degraded } = await client().getIdentity(token, claims);
      expect(degraded).toBe(true);
      expect(identity).toEqual({
        id: sub,
        name: 'ada@example.com',
        email: 'ada@example.com',
        groups: [],
      });
    },
  );

  it('asks once for a burst of requests of one session, and not again within the check interval', async () => {
    const identities = client();
    const { token, claims } = await signIn('ada@example.com');
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => identities.getIdentity(token, claims)),
    );
    expect(answers.every(answer => !answer.degraded)).toBe(true);
    await identities.getIdentity(token, claims);
    expect(emulator.requestCount('identity')).toBe(1);
  });

  it.each([
    ['ok', 'ok'],
    ['ended', 'ended'],
    ['login-redirect', 'ended'],
    ['forbidden', 'refused'],
    ['error-body', 'unusable'],
    ['error', 'error'],
    ['timeout', 'timeout'],
  ] as const)(
    'counts a get-identity call answered %s as %s',
    async (mode, counted) => {
      const before = await calls(counted);
      emulator.setEndpointMode('identity', mode);
      const { token } = await signIn('ada@example.com');
      await outcome(client(), token);
      expect(await calls(counted)).toBe(before + 1);
    },
  );

  it('asks again once the check interval has passed', async () => {
    const identities = client({ checkIntervalMs: 1 });
    const { token, claims } = await signIn('ada@example.com');
    await identities.getIdentity(token, claims);
    clock.advance(5);
    await identities.getIdentity(token, claims);
    expect(emulator.requestCount('identity')).toBe(2);
  });
});
