/** The provider in a real backend: where it reads the token, whom it signs in, and the 401s that echo nothing of a token. */
import { JsonObject } from '@backstage/types';
import { EXAMPLE_ORG } from './__testUtils__/paths';
import { identityOf, useCfaccess } from './__testUtils__/testBackend';

/** An emulator for these audiences, and a backend taking all of them, with the service token ci.access. */
function useBackendFor(audience: string[], provider: JsonObject = {}) {
  const { emulator, useBackend } = useCfaccess(
    {
      audience,
      serviceTokens: [{ token: 'ci.access', subject: 'ci-bot@example.com' }],
      ...provider,
    },
    { emulator: { audience, catalog: [EXAMPLE_ORG] } },
  );
  return { emulator, backend: useBackend() };
}

describe('the cfaccess provider in a real backend', () => {
  const { emulator, backend } = useBackendFor(['backstage-aud']);

  it('records each sign-in in the audit trail', async () => {
    const { token } = await emulator.signIn('linus@example.com');
    await backend.refresh(token);
    expect(backend.audited).toContainEqual({
      outcome: 'success',
      meta: { subject: 'user:default/linus' },
    });
  });

  it('signs a person in from the header, with groups and ownership', async () => {
    const { token } = await emulator.signIn('ada@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res)).toMatchObject({
      type: 'user',
      userEntityRef: 'user:default/ada',
    });
    expect(identityOf(res).ownershipEntityRefs).toEqual(
      expect.arrayContaining(['user:default/ada', 'group:default/platform']),
    );
    expect(res.body.profile).toMatchObject({
      email: 'ada@example.com',
      displayName: 'Ada Lovelace',
    });
    expect(res.body.providerInfo.cfIdentity.groups).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'platform' })]),
    );
    expect(res.body.providerInfo.claims.email).toBe('ada@example.com');
    expect(JSON.stringify(res.body)).not.toContain(token);
    expect(res.body.providerInfo.token).toBeUndefined();
  });

  it('signs a person in from the cookie when the header is absent', async () => {
    const { token } = await emulator.signIn('grace@example.com');
    const res = await backend.refresh(`CF_Authorization=${token}`, 'cookie');
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/grace');
  });

  it('answers 401 with what to fix when there is no token', async () => {
    const res = await backend.refresh();
    expect(res.status).toBe(401);
    expect(res.body.error.name).toBe('AuthenticationError');
    expect(res.body.error.message).toMatch(/No Cloudflare Access token/);
  });

  it('answers 401 for a token of another audience, echoing nothing of it', async () => {
    const token = await emulator.mintToken({
      aud: ['another-app'],
      email: 'ada@example.com',
      sub: 'ada-id',
    });
    const res = await backend.refresh(token);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(
      /audience is not one of the configured audiences; set auth\.providers\.cfaccess\.audience/,
    );
    expect(res.body.error.reason).toBe('audience');
    const body = JSON.stringify(res.body);
    expect(body).not.toContain('another-app');
    expect(body).not.toContain('ada@example.com');
    expect(body).not.toContain(token.split('.')[1]);

    const refusal = backend.audited.find(
      event => (event.meta as { reason?: string }).reason === 'audience',
    );
    expect(refusal).toMatchObject({
      outcome: 'fail',
      meta: {
        subject: expect.stringMatching(
          /^ada@example\.com .*audience another-app/,
        ),
      },
    });
    expect(JSON.stringify(backend.audited)).not.toContain(token.split('.')[1]);
  });

  it('answers 401, not 500, for garbage and for an expired token', async () => {
    const garbage = await backend.refresh('garbage');
    expect(garbage.status).toBe(401);
    expect(garbage.body.error.reason).toBe('malformed');

    const now = Math.floor(Date.now() / 1000);
    const expired = await emulator.mintToken({
      email: 'ada@example.com',
      sub: 'ada-id',
      iat: now - 7200,
      nbf: now - 7200,
      exp: now - 3600,
    });
    const res = await backend.refresh(expired);
    expect(res.status).toBe(401);
    expect(res.body.error.reason).toBe('expired');
  });

  it('signs an allowed service token in as its subject', async () => {
    const token = await emulator.mintServiceToken('ci.access');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(identityOf(res).userEntityRef).toBe('user:default/ci-bot');
    expect(res.body.providerInfo.serviceTokenId).toBe('ci.access');
    expect(res.body.providerInfo.cfIdentity.groups).toEqual([]);
  });

  it('answers 401 for a service token that is not listed', async () => {
    const token = await emulator.mintServiceToken('stranger.access');
    const res = await backend.refresh(token);
    expect(res.status).toBe(401);
    expect(res.body.error.reason).toBe('service_token');
    expect(res.body.error.message).toMatch(
      /add its Client ID to auth\.providers\.cfaccess\.serviceTokens/,
    );
    expect(JSON.stringify(res.body)).not.toContain('stranger');
  });
});

describe('the cfaccess provider with custom header and cookie names', () => {
  const { emulator, backend } = useBackendFor(['first-aud', 'second-aud'], {
    jwtHeaderName: 'x-access-token',
    authorizationCookieName: 'AccessCookie',
    serviceTokens: [
      {
        token: 'ci.access',
        subject: 'ci-bot@example.com',
        audience: 'second-aud',
      },
    ],
  });

  it('reads the configured header and cookie, and not the default ones', async () => {
    const { token } = await emulator.signIn('linus@example.com');
    const byHeader = await backend.refresh(token, 'x-access-token');
    expect(byHeader.status).toBe(200);
    expect(identityOf(byHeader).userEntityRef).toBe('user:default/linus');
    const byCookie = await backend.refresh(`AccessCookie=${token}`, 'cookie');
    expect(byCookie.status).toBe(200);
    const byDefaultHeader = await backend
      .refresh(token)
      .set('cookie', `CF_Authorization=${token}`);
    expect(byDefaultHeader.status).toBe(401);
  });

  it('accepts a token for any of several audiences', async () => {
    // A token of a live Access session, for the second of the configured audiences.
    const { sub, identityNonce } = await emulator.signIn('linus@example.com');
    const token = await emulator.mintToken({
      aud: ['second-aud'],
      email: 'linus@example.com',
      sub,
      identity_nonce: identityNonce,
    });
    const res = await backend.refresh(token, 'x-access-token');
    expect(res.status).toBe(200);
  });

  it('accepts a service token only for the audiences it is restricted to', async () => {
    const allowed = await emulator.mintServiceToken('ci.access', {
      aud: ['second-aud'],
    });
    const res = await backend.refresh(allowed, 'x-access-token');
    expect(res.status).toBe(200);
    const other = await emulator.mintServiceToken('ci.access', {
      aud: ['first-aud'],
    });
    const refused = await backend.refresh(other, 'x-access-token');
    expect(refused.status).toBe(401);
    expect(refused.body.error.reason).toBe('service_token');
  });
});
