/** allowedDomains names whole email domains: neither a longer name that ends like one nor its subdomains. */
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import {
  CfaccessBackend,
  startCfaccessBackend,
} from './__testUtils__/testBackend';

describe('allowedDomains matches the whole domain', () => {
  let emulator: AccessEmulator;
  let backend: CfaccessBackend;

  beforeAll(async () => {
    emulator = await startAccessEmulator({ audience: 'aud' });
    // provisionUsers signs in anyone allowedDomains lets through, so the domain check alone decides.
    backend = await startCfaccessBackend({
      provider: {
        teamDomain: emulator.url,
        audience: 'aud',
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              allowedDomains: ['example.com'],
              provisionUsers: true,
            },
          ],
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await backend.stop();
    await emulator.close();
  });

  const signIn = async (email: string) =>
    backend.refresh((await emulator.signIn(email)).token);

  it('signs in a person of the allowed domain (the control)', async () => {
    const res = await signIn('x@example.com');
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/x_example.com',
    );
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
