import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import { TestClock } from './__testUtils__/clock';
import {
  accessGroupsOf,
  CfaccessBackend,
  EXAMPLE_ORG,
  startCfaccessBackend,
} from './__testUtils__/testBackend';

describe('get-identity is trusted only where the token agrees', () => {
  let emulator: AccessEmulator;
  let backend: CfaccessBackend;
  const clock = new TestClock();

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [EXAMPLE_ORG],
    });
    backend = await startCfaccessBackend({
      provider: {
        teamDomain: emulator.url,
        audience: 'aud',
        identityTimeout: '500ms',
        sessionCheckInterval: '1s',
        accessGroups: accessGroupsOf(emulator, [
          'ada@example.com',
          'grace@example.com',
        ]),
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              ownershipFromAccessGroups: true,
            },
          ],
        },
      },
      clock,
    });
  }, 60_000);

  afterAll(() => emulator.close());

  afterEach(() => {
    emulator.setEndpointMode('identity', 'ok');
    emulator.answerIdentityAs(undefined);
  });

  const identityOf = (res: { body: any }) =>
    res.body.backstageIdentity?.identity;

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
