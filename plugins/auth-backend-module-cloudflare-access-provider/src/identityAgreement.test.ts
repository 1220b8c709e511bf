/** get-identity's answer enriches a sign-in only when it names the token's person by both email and `sub`. */
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import {
  accessGroupsOf,
  CfaccessBackend,
  EXAMPLE_ORG,
  startCfaccessBackend,
} from './__testUtils__/testBackend';

describe('get-identity must agree with the token on email and sub', () => {
  let emulator: AccessEmulator;
  let backend: CfaccessBackend;

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [EXAMPLE_ORG],
    });
    backend = await startCfaccessBackend({
      provider: {
        teamDomain: emulator.url,
        audience: 'aud',
        accessGroups: accessGroupsOf(emulator, [
          'grace@example.com',
          'linus@example.com',
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
    });
  }, 60_000);

  afterAll(() => emulator.close());

  const securityGroup = 'group:default/security';

  it("ignores an answer with the token's sub but another email", async () => {
    // get-identity reads the session by its identity_nonce and answers as Grace (in security);
    // the token names Linus (not in security) with Grace's own sub.
    const grace = await emulator.signIn('grace@example.com');
    const token = await emulator.mintToken({
      email: 'linus@example.com',
      sub: grace.sub,
      identity_nonce: grace.identityNonce,
    });
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/linus',
    );
    expect(res.body.providerInfo.degraded).toBe(true);
    expect(res.body.providerInfo.cfIdentity).toEqual({
      id: grace.sub,
      name: 'linus@example.com',
      email: 'linus@example.com',
      groups: [],
    });
    expect(
      res.body.backstageIdentity.identity.ownershipEntityRefs,
    ).not.toContain(securityGroup);
  });

  it("ignores an answer with the token's email but another sub", async () => {
    // The answer is Grace's own identity; only its user_uuid differs from the token's sub.
    const grace = await emulator.signIn('grace@example.com');
    const token = await emulator.mintToken({
      email: 'grace@example.com',
      sub: 'another-access-user-id',
      identity_nonce: grace.identityNonce,
    });
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/grace',
    );
    expect(res.body.providerInfo.degraded).toBe(true);
    expect(res.body.providerInfo.cfIdentity).toEqual({
      id: 'another-access-user-id',
      name: 'grace@example.com',
      email: 'grace@example.com',
      groups: [],
    });
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
