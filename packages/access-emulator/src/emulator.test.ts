import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  importSPKI,
  jwtVerify,
} from 'jose';
import { resolve } from 'node:path';
import { startAccessEmulator } from './emulator';
import { sleep, verifyWithCerts } from './__testUtils__/testHelpers';
import type { AccessEmulator } from './types';

const examples = resolve(__dirname, '../../../examples');
const RANDOM_UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function getIdentity(
  emulator: AccessEmulator,
  token: string,
): Promise<Response> {
  return fetch(`${emulator.url}/cdn-cgi/access/get-identity`, {
    headers: { cookie: `CF_Authorization=${token}` },
  });
}

async function servedKids(emulator: AccessEmulator): Promise<string[]> {
  const { keys } = (await (await fetch(emulator.certsUrl)).json()) as {
    keys: { kid: string }[];
  };
  return keys.map(key => key.kid);
}

describe('startAccessEmulator', () => {
  let emulator: AccessEmulator;

  beforeEach(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud-tag',
      users: [
        {
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          groups: ['platform'],
        },
      ],
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

  it('signs people in with a random sub, stable per person, and a new identity_nonce per session', async () => {
    const first = await emulator.signIn('ada@example.com');
    const second = await emulator.signIn('ADA@example.com');
    expect(first.sub).toMatch(RANDOM_UUID);
    expect(second.sub).toBe(first.sub);
    expect((await emulator.signIn('bob@example.com')).sub).not.toBe(first.sub);
    // Nothing is derived from the email: another emulator gives the same person another id.
    const other = await startAccessEmulator({
      audience: 'aud-tag',
      users: [{ email: 'ada@example.com' }],
    });
    try {
      expect((await other.signIn('ada@example.com')).sub).not.toBe(first.sub);
    } finally {
      await other.close();
    }
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
    expect(decodeProtectedHeader(first.token)).toEqual({
      alg: 'RS256',
      kid: emulator.keys().current.kid,
    });
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
      await emulator.mintToken({
        aud: ['other'],
        email: 'x@example.com',
        nbf: undefined,
        type: 'org',
      }),
    );
    expect(custom).toMatchObject({
      aud: ['other'],
      email: 'x@example.com',
      type: 'org',
    });
    expect(custom).not.toHaveProperty('nbf');
  });

  it('overrides protected header fields', async () => {
    const token = await emulator.mintToken(
      {},
      { header: { kid: 'not-a-key', typ: 'JWT' } },
    );
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      kid: 'not-a-key',
      typ: 'JWT',
    });
    await expect(verifyWithCerts(emulator, token)).rejects.toBeInstanceOf(
      errors.JWKSNoMatchingKey,
    );
  });

  it('signs with an unpublished key whose kid is not in certs', async () => {
    const token = await emulator.mintToken({}, { key: 'unpublished' });
    const { kid } = decodeProtectedHeader(token);
    const { unpublished } = emulator.keys();
    expect(kid).toBe(unpublished.kid);
    expect(await servedKids(emulator)).not.toContain(kid);
    await expect(verifyWithCerts(emulator, token)).rejects.toBeInstanceOf(
      errors.JWKSNoMatchingKey,
    );
    // The key itself is real: it verifies against the PEM the emulator reports.
    await expect(
      jwtVerify(token, await importSPKI(unpublished.publicKeyPem, 'RS256')),
    ).resolves.toBeDefined();
  });

  it('mints service tokens as Access forwards them', async () => {
    const token = await emulator.mintServiceToken('ci.access', {
      exp: 4102444800,
    });
    const payload = await verifyWithCerts(emulator, token);
    expect(payload).toMatchObject({
      common_name: 'ci.access',
      sub: '',
      type: 'app',
      exp: 4102444800,
    });
    expect(payload).not.toHaveProperty('email');
  });

  it('rotates keys: the previous key stays published, the one before is dropped', async () => {
    const original = emulator.keys();
    expect(original.previous).toBeUndefined();
    expect(await servedKids(emulator)).toEqual([original.current.kid]);
    await expect(emulator.mintToken({}, { key: 'previous' })).rejects.toThrow(
      /no previous key/,
    );
    const oldToken = (await emulator.signIn('ada@example.com')).token;

    await emulator.rotateKeys();
    const rotated = emulator.keys();
    expect(rotated.previous?.kid).toBe(original.current.kid);
    expect(rotated.current.kid).not.toBe(original.current.kid);
    expect(rotated.unpublished.kid).toBe(original.unpublished.kid);
    expect(await servedKids(emulator)).toEqual([
      rotated.current.kid,
      original.current.kid,
    ]);
    await expect(verifyWithCerts(emulator, oldToken)).resolves.toBeDefined();
    const byPrevious = await emulator.mintToken({}, { key: 'previous' });
    expect(decodeProtectedHeader(byPrevious).kid).toBe(original.current.kid);

    await emulator.rotateKeys();
    expect(await servedKids(emulator)).toEqual([
      emulator.keys().current.kid,
      rotated.current.kid,
    ]);
    const jwks = createRemoteJWKSet(new URL(emulator.certsUrl));
    await expect(jwtVerify(oldToken, jwks)).rejects.toBeInstanceOf(
      errors.JWKSNoMatchingKey,
    );
  });

  it('reports public keys as PEM and JWK that verify its tokens', async () => {
    const { current } = emulator.keys();
    expect(current.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(current.kid).toMatch(/^[0-9a-f]{64}$/);
    const token = await emulator.mintToken();
    await expect(
      jwtVerify(token, createLocalJWKSet({ keys: [current.jwk] })),
    ).resolves.toBeDefined();
    await expect(jwtVerify(token, current.publicKey)).resolves.toBeDefined();
  });

  it('ends a session by identity_nonce: get-identity then answers 401', async () => {
    const { token, identityNonce } = await emulator.signIn('ada@example.com');
    const other = await emulator.signIn('ada@example.com');
    expect((await getIdentity(emulator, token)).status).toBe(200);
    emulator.endSession(identityNonce);
    const response = await getIdentity(emulator, token);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      err: 'invalid token: ERR_NO_SESSION',
    });
    expect((await getIdentity(emulator, other.token)).status).toBe(200);
  });

  it('tells what get-identity would answer for a new session of a person', async () => {
    const before = Math.floor(Date.now() / 1000);
    const expected = emulator.identityOf('Ada@Example.com');
    expect(expected).toEqual({
      id: expect.stringMatching(RANDOM_UUID),
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      groups: [
        { id: expect.stringMatching(RANDOM_UUID), name: 'platform', email: '' },
      ],
      idp: { id: expect.stringMatching(RANDOM_UUID), type: 'emulator' },
      user_uuid: expect.stringMatching(RANDOM_UUID),
      iat: expect.any(Number),
      geo: { country: 'NL' },
      amr: ['pwd'],
    });
    expect(expected.iat).toBeGreaterThanOrEqual(before);
    expect(expected.id).not.toBe(expected.user_uuid);
    const { token, sub } = await emulator.signIn('ada@example.com');
    expect(sub).toBe(expected.user_uuid);
    const answered = await (await getIdentity(emulator, token)).json();
    expect(answered).toEqual({ ...expected, iat: answered.iat });
    // A stranger's ids are kept from the first question on.
    const stranger = emulator.identityOf('new@example.org');
    expect((await emulator.signIn('new@example.org')).sub).toBe(
      stranger.user_uuid,
    );
  });

  it('signs a stranger in with the given groups, resolved as catalog group names', async () => {
    const [platform] = emulator.identityOf('ada@example.com').groups;
    const { token } = await emulator.signIn('new@example.org', {
      groups: ['PLATFORM', ' ops ', ''],
    });
    const identity = await (await getIdentity(emulator, token)).json();
    expect(identity.groups).toEqual([
      { id: platform.id, name: 'PLATFORM', email: '' },
      { id: expect.stringMatching(RANDOM_UUID), name: 'ops', email: '' },
    ]);
    // A person the emulator knows keeps their own groups.
    const ada = await emulator.signIn('ada@example.com', { groups: ['ops'] });
    expect(
      (await (await getIdentity(emulator, ada.token)).json()).groups,
    ).toEqual([platform]);
    await expect(
      emulator.signIn('new@example.org', {
        groups: Array.from({ length: 21 }, (_, i) => `g${i}`),
      }),
    ).rejects.toThrow('at most 20 Access groups');
    await expect(
      emulator.signIn('new@example.org', { groups: ['x'.repeat(101)] }),
    ).rejects.toThrow('at most 100 characters');
  });

  it('closes idempotently', async () => {
    await emulator.close();
    await emulator.close();
    await expect(fetch(emulator.certsUrl)).rejects.toThrow();
  });
});

describe('startAccessEmulator options', () => {
  it('takes user and group ids from catalog annotations', async () => {
    const emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [examples],
    });
    try {
      const { token, sub } = await emulator.signIn('grace@example.com');
      expect(sub).toBe('dc2bb559-919c-40eb-ae1d-4bc1dcbdde0d');
      expect(decodeJwt(token).sub).toBe(sub);
      expect(await (await getIdentity(emulator, token)).json()).toMatchObject({
        user_uuid: 'dc2bb559-919c-40eb-ae1d-4bc1dcbdde0d',
        groups: [
          {
            id: '8c18650f-db31-4b22-b0b2-34a441fe843d',
            name: 'engineering',
            email: 'engineering@example.com',
          },
          {
            id: '69da3881-0fa4-4c2e-af7c-66086ef9b79e',
            name: 'security',
            email: '',
          },
        ],
      });
    } finally {
      await emulator.close();
    }
  });

  it('gives groups random ids, never their names, one per name whatever its case', async () => {
    const emulator = await startAccessEmulator({
      audience: 'aud',
      users: [
        { email: 'ada@example.com', groups: ['platform', 'Security'] },
        { email: 'bob@example.com', groups: ['security'] },
      ],
    });
    try {
      const [platform, security] =
        emulator.identityOf('ada@example.com').groups;
      expect(platform).toEqual({
        id: expect.stringMatching(RANDOM_UUID),
        name: 'platform',
        email: '',
      });
      expect(security).toEqual({
        id: expect.stringMatching(RANDOM_UUID),
        name: 'Security',
        email: '',
      });
      expect(security.id).not.toBe(platform.id);
      expect(emulator.identityOf('bob@example.com').groups).toEqual([
        { id: security.id, name: 'security', email: '' },
      ]);
    } finally {
      await emulator.close();
    }
  });

  it('takes users with an Access id and groups with their own ids, even named like another id', async () => {
    const platformId = 'bb75c13a-6268-4379-9716-e58cf3133342';
    const emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [examples],
      users: [
        {
          email: 'mallory@example.com',
          id: 'mallory-access-id',
          groups: [
            { name: platformId },
            { id: 'not-platform', name: 'platform', email: 'm@example.com' },
            'security',
          ],
        },
      ],
    });
    try {
      const { token, sub } = await emulator.signIn('mallory@example.com');
      expect(sub).toBe('mallory-access-id');
      const identity = await (await getIdentity(emulator, token)).json();
      expect(identity).toMatchObject({
        user_uuid: 'mallory-access-id',
        groups: [
          {
            id: expect.stringMatching(RANDOM_UUID),
            name: platformId,
            email: '',
          },
          { id: 'not-platform', name: 'platform', email: 'm@example.com' },
          {
            id: '69da3881-0fa4-4c2e-af7c-66086ef9b79e',
            name: 'security',
            email: '',
          },
        ],
      });
      expect(identity.groups[0].id).not.toBe(platformId);
      expect(emulator.identityOf('ada@example.com').groups).toEqual([
        { id: platformId, name: 'platform', email: '' },
      ]);
    } finally {
      await emulator.close();
    }
  });

  it('rotates keys on an interval when asked', async () => {
    const emulator = await startAccessEmulator({
      audience: 'aud',
      keyRotationIntervalSeconds: 1,
    });
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
      const response = await fetch(
        `${emulator.url}/cdn-cgi/access/get-identity`,
        {
          headers: { cookie: `CF_Authorization=${token}` },
        },
      );
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
