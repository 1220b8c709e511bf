import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  importSPKI,
  jwtVerify,
} from 'jose';
import { startAccessEmulator } from './emulator';
import { sleep, verifyWithCerts } from './__testUtils__/testHelpers';
import type { AccessEmulator } from './types';

async function servedKids(emulator: AccessEmulator): Promise<string[]> {
  const { keys } = (await (await fetch(emulator.certsUrl)).json()) as { keys: { kid: string }[] };
  return keys.map(key => key.kid);
}

describe('startAccessEmulator', () => {
  let emulator: AccessEmulator;

  beforeEach(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud-tag',
      users: [{ email: 'ada@example.com', name: 'Ada Lovelace', groups: ['platform'] }],
      country: 'NL',
    });
  });
  afterEach(() => emulator.close());

  it('is its own team domain on 127.0.0.1', () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.teamDomain).toBe(emulator.url);
    expect(emulator.certsUrl).toBe(`${emulator.url}/cdn-cgi/access/certs`);
    expect(emulator.audience).toEqual(['aud-tag']);
  });

  it('signs people in with a stable sub and a new identity_nonce per session', async () => {
    const first = await emulator.signIn('ada@example.com');
    const second = await emulator.signIn('ADA@example.com');
    expect(second.sub).toBe(first.sub);
    expect(second.identityNonce).not.toBe(first.identityNonce);
    const payload = await verifyWithCerts(emulator, first.token);
    expect(payload).toMatchObject({
      sub: first.sub,
      identity_nonce: first.identityNonce,
      email: 'ada@example.com',
      country: 'NL',
      type: 'app',
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    expect(payload.nbf).toBe(payload.iat);
    expect(decodeProtectedHeader(first.token)).toEqual({ alg: 'RS256', kid: emulator.keys().current.kid });
  });

  it('mints tokens with defaults that claims override or remove', async () => {
    const plain = decodeJwt(await emulator.mintToken());
    expect(plain).toEqual({
      iss: emulator.url,
      aud: ['aud-tag'],
      iat: expect.any(Number),
      nbf: expect.any(Number),
      exp: (plain.iat ?? 0) + 3600,
      type: 'app',
    });
    const custom = decodeJwt(
      await emulator.mintToken({ aud: ['other'], email: 'x@example.com', nbf: undefined, type: 'org' }),
    );
    expect(custom).toMatchObject({ aud: ['other'], email: 'x@example.com', type: 'org' });
    expect(custom).not.toHaveProperty('nbf');
  });

  it('overrides protected header fields', async () => {
    const token = await emulator.mintToken({}, { header: { kid: 'not-a-key', typ: 'JWT' } });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: 'not-a-key', typ: 'JWT' });
    await expect(verifyWithCerts(emulator, token)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('signs with an unpublished key whose kid is not in certs', async () => {
    const token = await emulator.mintToken({}, { key: 'unpublished' });
    const { kid } = decodeProtectedHeader(token);
    const { unpublished } = emulator.keys();
    expect(kid).toBe(unpublished.kid);
    expect(await servedKids(emulator)).not.toContain(kid);
    await expect(verifyWithCerts(emulator, token)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    // The key itself is real: it verifies against the PEM the emulator reports.
    await expect(jwtVerify(token, await importSPKI(unpublished.publicKeyPem, 'RS256'))).resolves.toBeDefined();
  });

  it('mints service tokens as Access forwards them', async () => {
    const token = await emulator.mintServiceToken('ci.access', { exp: 4102444800 });
    const payload = await verifyWithCerts(emulator, token);
    expect(payload).toMatchObject({ common_name: 'ci.access', sub: '', type: 'app', exp: 4102444800 });
    expect(payload).not.toHaveProperty('email');
  });

  it('rotates keys: the previous key stays published, the one before is dropped', async () => {
    const original = emulator.keys();
    expect(original.previous).toBeUndefined();
    expect(await servedKids(emulator)).toEqual([original.current.kid]);
    await expect(emulator.mintToken({}, { key: 'previous' })).rejects.toThrow(/no previous key/);
    const oldToken = (await emulator.signIn('ada@example.com')).token;

    await emulator.rotateKeys();
    const rotated = emulator.keys();
    expect(rotated.previous?.kid).toBe(original.current.kid);
    expect(rotated.current.kid).not.toBe(original.current.kid);
    expect(rotated.unpublished.kid).toBe(original.unpublished.kid);
    expect(await servedKids(emulator)).toEqual([rotated.current.kid, original.current.kid]);
    await expect(verifyWithCerts(emulator, oldToken)).resolves.toBeDefined();
    const byPrevious = await emulator.mintToken({}, { key: 'previous' });
    expect(decodeProtectedHeader(byPrevious).kid).toBe(original.current.kid);

    await emulator.rotateKeys();
    expect(await servedKids(emulator)).toEqual([emulator.keys().current.kid, rotated.current.kid]);
    const jwks = createRemoteJWKSet(new URL(emulator.certsUrl));
    await expect(jwtVerify(oldToken, jwks)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('reports public keys as PEM and JWK that verify its tokens', async () => {
    const { current } = emulator.keys();
    expect(current.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(current.kid).toMatch(/^[0-9a-f]{64}$/);
    const token = await emulator.mintToken();
    await expect(jwtVerify(token, createLocalJWKSet({ keys: [current.jwk] }))).resolves.toBeDefined();
    await expect(jwtVerify(token, current.publicKey)).resolves.toBeDefined();
  });

  it('ends a session by identity_nonce', async () => {
    const { token, identityNonce } = await emulator.signIn('ada@example.com');
    const identity = () =>
      fetch(`${emulator.url}/cdn-cgi/access/get-identity`, { headers: { cookie: `CF_Authorization=${token}` } });
    expect((await identity()).status).toBe(200);
    emulator.endSession(identityNonce);
    expect((await identity()).status).toBe(401);
  });

  it('closes idempotently', async () => {
    await emulator.close();
    await emulator.close();
    await expect(fetch(emulator.certsUrl)).rejects.toThrow();
  });
});

describe('startAccessEmulator options', () => {
  it('rotates keys on an interval when asked', async () => {
    const emulator = await startAccessEmulator({ audience: 'aud', keyRotationIntervalSeconds: 1 });
    try {
      const first = emulator.keys().current.kid;
      await sleep(1500);
      expect(emulator.keys().previous?.kid).toBe(first);
    } finally {
      await emulator.close();
    }
  });

  it('issues tokens under another team domain name, which get-identity accepts', async () => {
    const emulator = await startAccessEmulator({
      audience: 'aud',
      issuer: 'https://acme.cloudflareaccess.com/',
    });
    try {
      expect(emulator.teamDomain).toBe('https://acme.cloudflareaccess.com');
      const { token } = await emulator.signIn('ada@example.com');
      expect(decodeJwt(token).iss).toBe('https://acme.cloudflareaccess.com');
      const response = await fetch(`${emulator.url}/cdn-cgi/access/get-identity`, {
        headers: { cookie: `CF_Authorization=${token}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ email: 'ada@example.com' });
    } finally {
      await emulator.close();
    }
  });

  it.each([
    [{ audience: [] }, /audience/],
    [{ audience: '' }, /audience/],
    [{ audience: 'aud', tokenLifetimeSeconds: 0 }, /tokenLifetimeSeconds/],
    [{ audience: 'aud', sessionDurationSeconds: -1 }, /sessionDurationSeconds/],
    [{ audience: 'aud', upstream: 'localhost:3000' }, /upstream/],
    [{ audience: 'aud', issuer: 'acme.cloudflareaccess.com' }, /issuer/],
  ])('refuses bad options %j', async (options, message) => {
    await expect(startAccessEmulator(options)).rejects.toThrow(message);
  });
});
