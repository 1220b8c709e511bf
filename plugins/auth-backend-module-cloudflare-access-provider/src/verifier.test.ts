/** What the verifier accepts and refuses of a token by itself: its audience, issuer, times, algorithm, key, signature, form and type; and no refusal repeats a claim. */
import { SignJWT } from 'jose';
import { reasonOf, now, useVerifiers } from './__testUtils__/verifier';

describe('AccessTokenVerifier', () => {
  const { emulator, verifierFor } = useVerifiers();

  it('accepts a token Access issued for the audience', async () => {
    const { token, sub } = await emulator.signIn('ada@example.com');
    const claims = await verifierFor().verify(token);
    expect(claims).toMatchObject({
      email: 'ada@example.com',
      sub,
      iss: emulator.url,
      aud: ['aud-one'],
      type: 'app',
    });
  });

  it('accepts a token that shares one of several configured audiences', async () => {
    const token = await emulator.mintToken({ aud: ['aud-two'] });
    await expect(
      verifierFor(['aud-one', 'aud-two']).verify(token),
    ).resolves.toMatchObject({ aud: ['aud-two'] });
  });

  it('refuses a token for another audience', async () => {
    const token = await emulator.mintToken({ aud: ['someone-else'] });
    expect(await reasonOf(verifierFor().verify(token))).toBe('audience');
  });

  it('refuses a token from another issuer', async () => {
    const token = await emulator.mintToken({
      iss: 'https://other.cloudflareaccess.com',
    });
    expect(await reasonOf(verifierFor().verify(token))).toBe('issuer');
  });

  it('refuses an expired token, beyond the clock tolerance only', async () => {
    const expired = await emulator.mintToken({
      iat: now() - 7200,
      nbf: now() - 7200,
      exp: now() - 60,
    });
    expect(await reasonOf(verifierFor().verify(expired))).toBe('expired');
    const withinTolerance = await emulator.mintToken({ exp: now() - 10 });
    await expect(verifierFor().verify(withinTolerance)).resolves.toBeDefined();
  });

  it('refuses a token that is not valid yet', async () => {
    const token = await emulator.mintToken({ nbf: now() + 3600 });
    expect(await reasonOf(verifierFor().verify(token))).toBe('not_yet_valid');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const valid = await emulator.mintToken();
    const [, payload] = valid.split('.');
    const header = Buffer.from(
      JSON.stringify({ alg: 'none', kid: emulator.keys().current.kid }),
    ).toString('base64url');
    expect(await reasonOf(verifierFor().verify(`${header}.${payload}.`))).toBe(
      'algorithm',
    );
  });

  it('refuses an HS256 token keyed with the public key', async () => {
    const { kid, publicKeyPem } = emulator.keys().current;
    const token = await new SignJWT({
      email: 'mallory@example.com',
      type: 'app',
    })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuer(emulator.url)
      .setAudience(['aud-one'])
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(publicKeyPem));
    expect(await reasonOf(verifierFor().verify(token))).toBe('algorithm');
  });

  it('refuses a token signed with a key the team domain does not publish', async () => {
    const token = await emulator.mintToken({}, { key: 'unpublished' });
    expect(await reasonOf(verifierFor().verify(token))).toBe('unknown_key');
  });

  it('refuses a token whose payload was altered', async () => {
    const [header, payload, signature] = (await emulator.mintToken()).split(
      '.',
    );
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(
      JSON.stringify({ ...claims, email: 'admin@example.com' }),
    ).toString('base64url');
    expect(
      await reasonOf(verifierFor().verify(`${header}.${forged}.${signature}`)),
    ).toBe('signature');
  });

  it('refuses garbage', async () => {
    expect(await reasonOf(verifierFor().verify('not-a-token'))).toBe(
      'malformed',
    );
    expect(await reasonOf(verifierFor().verify('a.b.c'))).toBe('malformed');
  });

  it('refuses whitespace inside a valid token, and an oversized one, before any crypto', async () => {
    const token = await emulator.mintToken();
    const [header, payload, signature] = token.split('.');
    const spaced = `${header}.${payload}.${signature.slice(
      0,
      10,
    )} ${signature.slice(10)}`;
    expect(await reasonOf(verifierFor().verify(spaced))).toBe('malformed');
    expect(await reasonOf(verifierFor().verify(`${token}\n`))).toBe(
      'malformed',
    );
    const huge = await emulator.mintToken({ custom: 'x'.repeat(20_000) });
    expect(await reasonOf(verifierFor().verify(huge))).toBe('malformed');
  });

  it('remembers one entry for 10,000 whitespace spellings of one valid token', async () => {
    const verifier = verifierFor();
    const { token } = await emulator.signIn('ada@example.com');
    await verifier.check(token);
    const once = verifier.rememberedBytes;
    expect(once).toBeGreaterThan(0);
    const [header, payload, signature] = token.split('.');
    for (let i = 0; i < 10_000; i++) {
      const at = 1 + (i % (signature.length - 1));
      const variant = `${header}.${payload}.${signature.slice(
        0,
        at,
      )}${' '.repeat(1 + Math.floor(i / signature.length))}${signature.slice(
        at,
      )}`;
      await verifier.check(variant).catch(() => undefined);
    }
    expect(verifier.rememberedBytes).toBe(once);
  });

  it('refuses an Access org token', async () => {
    const token = await emulator.mintToken({ type: 'org' });
    expect(await reasonOf(verifierFor().verify(token))).toBe('token_type');
  });
  it('never puts claims or the token in its error', async () => {
    const token = await emulator.mintToken({
      aud: ['someone-else'],
      email: 'secret-person@example.com',
    });
    const error = await verifierFor()
      .verify(token)
      .catch(e => e);
    const text = JSON.stringify({ ...error, message: error.message });
    expect(text).not.toContain('secret-person');
    expect(text).not.toContain('someone-else');
    expect(text).not.toContain(token.split('.')[1]);
  });
});
