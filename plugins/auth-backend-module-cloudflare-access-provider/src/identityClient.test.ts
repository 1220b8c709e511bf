/** get-identity through a real backend: its answer trusted only where it agrees with the token on email and `sub`, and a session Access ended kept refused. */
import { TestClock } from './__testUtils__/clock';
import { identityOf, useCfaccess } from './__testUtils__/testBackend';

describe('get-identity is trusted only where the token agrees', () => {
  const clock = new TestClock();
  const { emulator, useBackend } = useCfaccess(
    {
      identityTimeout: '500ms',
      sessionCheckInterval: '1s',
      groupsOf: ['ada@example.com', 'grace@example.com'],
      resolver: { ownershipFromAccessGroups: true },
    },
    { clock },
  );
  const backend = useBackend();

  it("signs in the token's person, without the answer's groups, when get-identity names someone else", async () => {
    // Grace is in security; Linus is not.
    const { token } = await emulator.signIn('linus@example.com');
    emulator.answerIdentityAs('grace@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/linus');
    expect(res.body.providerInfo.degraded).toBe(true);
    expect(res.body.providerInfo.cfIdentity).toMatchObject({
      email: 'linus@example.com',
      groups: [],
    });
    expect(identityOf(res).ownershipEntityRefs).not.toContain(
      'group:default/security',
    );
    expect(JSON.stringify(res.body)).not.toContain('grace');
  });

  it('does not keep an answer that is not an identity for the session', async () => {
    const { token } = await emulator.signIn('ada@example.com');
    emulator.setEndpointMode('identity', 'error-body');
    const degraded = await backend.refresh(token);
    expect(degraded.status).toBe(200);
    expect(degraded.body.providerInfo.degraded).toBe(true);

    emulator.setEndpointMode('identity', 'ok');
    clock.advance(1200);
    const healed = await backend.refresh(token);
    expect(healed.status).toBe(200);
    expect(healed.body.providerInfo.degraded).toBeUndefined();
    expect(healed.body.providerInfo.cfIdentity.groups).not.toEqual([]);
  });

  it.each(['ended', 'login-redirect'] as const)(
    'refuses a session get-identity ends (%s) with a 401, and remembers it',
    async mode => {
      const { token } = await emulator.signIn('grace@example.com');
      emulator.setEndpointMode('identity', mode);
      emulator.resetCounts();
      const refused = await backend.refresh(token);
      expect(refused.status).toBe(401);
      expect(refused.body.error.reason).toBe('session_ended');
      expect(refused.body.error.message).toMatch(
        /session behind this token has ended.*sign in to Cloudflare Access again/,
      );
      expect(JSON.stringify(refused.body)).not.toContain(token);

      emulator.setEndpointMode('identity', 'ok');
      const replay = await backend.refresh(token);
      expect(replay.status).toBe(401);
      expect(emulator.requestCount('identity')).toBe(1);
    },
  );

  it('refuses a session when something other than Access answers 403, only until the session is checked again', async () => {
    const { token } = await emulator.signIn('ada@example.com');
    emulator.setEndpointMode('identity', 'forbidden');
    emulator.resetCounts();
    const refused = await backend.refresh(token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.reason).toBe('session_unconfirmed');

    emulator.setEndpointMode('identity', 'ok');
    // Remembered, not asked again at once...
    expect((await backend.refresh(token)).status).toBe(401);
    expect(emulator.requestCount('identity')).toBe(1);
    // ...but only until the next check (sessionCheckInterval, 1s here): then the same token signs in.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      clock.advance(100);
      status = (await backend.refresh(token)).status;
    }
    expect(status).toBe(200);
    expect(emulator.requestCount('identity')).toBe(2);
  });

  it('keeps a session Access ended refused past the check interval, also while get-identity is down', async () => {
    const { token } = await emulator.signIn('grace@example.com');
    emulator.setEndpointMode('identity', 'ended');
    expect((await backend.refresh(token)).status).toBe(401);
    emulator.setEndpointMode('identity', 'error');
    emulator.resetCounts();
    // Twice sessionCheckInterval: an answer kept only until the next check would be asked again by now.
    clock.advance(2000);
    const replay = await backend.refresh(token);
    expect(replay.status).toBe(401);
    expect(replay.body.error.reason).toBe('session_ended');
    expect(emulator.requestCount('identity')).toBe(0);
    emulator.setEndpointMode('identity', 'ok');
  });

  it('refuses a signed-in session within sessionCheckInterval of its Access logout', async () => {
    const { token, identityNonce } = await emulator.signIn('ada@example.com');
    expect((await backend.refresh(token)).status).toBe(200);
    emulator.endSession(identityNonce);
    clock.advance(1200);
    const refused = await backend.refresh(token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.reason).toBe('session_ended');
  });

  it('degrades, not refuses, when get-identity fails with a 5xx', async () => {
    const { token } = await emulator.signIn('grace@example.com');
    emulator.setEndpointMode('identity', 'error');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(res.body.providerInfo.degraded).toBe(true);
  });
});

describe('get-identity must agree with the token on email and sub', () => {
  const { emulator, useBackend } = useCfaccess({
    groupsOf: ['grace@example.com', 'linus@example.com'],
    resolver: { ownershipFromAccessGroups: true },
  });
  const backend = useBackend();

  const securityGroup = 'group:default/security';

  /** A token of Grace's Access session (get-identity reads it and answers as Grace) that names this email and sub. */
  async function gracesSessionAs(email: string, sub?: string) {
    const grace = await emulator.signIn('grace@example.com');
    const token = await emulator.mintToken({
      email,
      sub: sub ?? grace.sub,
      identity_nonce: grace.identityNonce,
    });
    return { grace, token };
  }

  /** The identity of a degraded sign-in: the token's own claims, no groups. */
  const fromClaims = (sub: string, email: string) => ({
    id: sub,
    name: email,
    email,
    groups: [],
  });

  it("ignores an answer with the token's sub but another email", async () => {
    // get-identity answers as Grace (in security); the token names Linus (not in security) with Grace's own sub.
    const { grace, token } = await gracesSessionAs('linus@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/linus');
    expect(res.body.providerInfo.degraded).toBe(true);
    expect(res.body.providerInfo.cfIdentity).toEqual(
      fromClaims(grace.sub, 'linus@example.com'),
    );
    expect(identityOf(res).ownershipEntityRefs).not.toContain(securityGroup);
  });

  it("ignores an answer with the token's email but another sub", async () => {
    // The answer is Grace's own identity; only its user_uuid differs from the token's sub.
    const { token } = await gracesSessionAs(
      'grace@example.com',
      'another-access-user-id',
    );
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/grace');
    expect(res.body.providerInfo.degraded).toBe(true);
    expect(res.body.providerInfo.cfIdentity).toEqual(
      fromClaims('another-access-user-id', 'grace@example.com'),
    );
  });

  it('uses an answer that agrees on both (the control)', async () => {
    const grace = await emulator.signIn('grace@example.com');
    const res = await backend.refresh(grace.token);
    expect(res.status).toBe(200);
    expect(res.body.providerInfo.degraded).toBeUndefined();
    expect(res.body.providerInfo.cfIdentity.groups).toEqual(
      emulator.identityOf('grace@example.com').groups,
    );
  });
});
