import { ConfigReader } from '@backstage/config';
import { SignJWT } from 'jose';
import { explainCloudflareAccessToken } from './explain';
import { useAccessEmulator } from './__testUtils__/emulator';

describe('explainCloudflareAccessToken', () => {
  const emulator = useAccessEmulator({ audience: 'aud-one' });

  const now = () => Math.floor(Date.now() / 1000);

  function explain(token: string, provider: Record<string, unknown> = {}) {
    return explainCloudflareAccessToken({
      config: new ConfigReader({
        teamDomain: emulator.url,
        audience: 'aud-one',
        serviceTokens: [{ token: 'listed.access', subject: 'ci@example.com' }],
        ...provider,
      } as any),
      token,
    });
  }

  it('accepts a good token and says who it is', async () => {
    const { token } = await emulator.signIn('ada@example.com');
    await expect(explain(token)).resolves.toMatchObject({
      accepted: true,
      summary: expect.stringContaining(
        'ada@example.com passes every token check',
      ),
    });
  });

  it('says which service token signs in as whom', async () => {
    const token = await emulator.mintServiceToken('listed.access');
    await expect(explain(token)).resolves.toMatchObject({
      accepted: true,
      summary:
        'Accepted: service token listed.access signs in as ci@example.com',
    });
  });

  it.each([
    ['missing', async () => '   ', /No token given/, []],
    ['malformed', async () => 'garbage', /not a well-formed JWT/, []],
    [
      'audience',
      async () => emulator.mintToken({ aud: ['aud-other'] }),
      /set auth\.providers\.cfaccess\.audience/,
      ['token audience: aud-other', 'configured audience: aud-one'],
    ],
    [
      'issuer',
      async () =>
        emulator.mintToken({ iss: 'https://other.cloudflareaccess.com' }),
      /issued by another team domain/,
      ['token issuer: https://other.cloudflareaccess.com'],
    ],
    [
      'unknown_key',
      async () => emulator.mintToken({}, { key: 'unpublished' }),
      /signed with a key this team domain does not publish/,
      [expect.stringMatching(/^keys the team domain publishes: [0-9a-f]{64}/)],
    ],
    [
      'signature',
      async () => {
        const [header, , signature] = (await emulator.mintToken()).split('.');
        const payload = Buffer.from(
          JSON.stringify({ sub: 'x', exp: now() + 60 }),
        ).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
      /signature does not verify/,
      [],
    ],
    [
      'algorithm',
      async () =>
        new SignJWT({ sub: 'x' })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('secret')),
      /not signed with RS256/,
      [],
    ],
    [
      'expired',
      async () =>
        emulator.mintToken({
          iat: now() - 7200,
          nbf: now() - 7200,
          exp: now() - 3600,
        }),
      /has expired/,
      [
        expect.stringMatching(
          /^this machine's clock: .* \(clock tolerance 30s\)/,
        ),
      ],
    ],
    [
      'not_yet_valid',
      async () => emulator.mintToken({ nbf: now() + 3600 }),
      /check the server clock/,
      [expect.stringMatching(/^token not before /)],
    ],
    [
      'token_type',
      async () => emulator.mintToken({ type: 'org' }),
      /not a Cloudflare Access application token/,
      ['token type: org'],
    ],
    [
      'subject',
      async () => emulator.mintToken({ sub: '', common_name: undefined }),
      /names neither a user nor a service token/,
      [],
    ],
    [
      'service_token',
      async () => emulator.mintServiceToken('unlisted.access'),
      /add its Client ID to auth\.providers\.cfaccess\.serviceTokens/,
      [
        'service token Client ID: unlisted.access, audience aud-one',
        'configured service tokens: listed.access',
      ],
    ],
  ])('explains %s', async (reason, makeToken, summary, details) => {
    const explanation = await explain(await makeToken());
    expect(explanation.accepted).toBe(false);
    expect(explanation.reason).toBe(reason);
    expect(explanation.summary).toMatch(summary);
    expect(explanation.details).toEqual(expect.arrayContaining(details));
  });

  it('explains keys_unavailable when the certs endpoint fails', async () => {
    const token = await emulator.mintToken();
    emulator.setEndpointMode('certs', 'error');
    await expect(explain(token)).resolves.toMatchObject({
      accepted: false,
      reason: 'keys_unavailable',
      summary: expect.stringMatching(/check that the team domain is reachable/),
    });
  });

  it('explains a broken provider config', async () => {
    const token = await emulator.mintToken();
    await expect(
      explain(token, { audience: undefined }),
    ).resolves.toMatchObject({
      accepted: false,
      reason: 'config',
      summary: expect.stringMatching(/audience is missing/),
    });
  });
});
