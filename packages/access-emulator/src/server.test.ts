import { resolve } from 'node:path';
import { errors, jwtVerify, createRemoteJWKSet, decodeJwt } from 'jose';
import { startAccessEmulator } from './emulator';
import {
  authorizationCookieOf,
  signInWithForm,
  sleep,
  verifyWithCerts,
} from './__testUtils__/testHelpers';
import type { AccessEmulator } from './types';

const examples = resolve(__dirname, '../../../examples');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
}

describe('the Access routes and the guard, without an upstream', () => {
  let emulator: AccessEmulator;

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: ['aud-one', 'aud-two'],
      catalog: [examples],
      users: [
        {
          email: 'eve@example.com',
          name: '<script>alert(1)</script>',
          groups: ['security'],
        },
      ],
    });
  });
  afterAll(() => emulator.close());
  beforeEach(() => {
    emulator.setEndpointMode('certs', 'ok');
    emulator.setEndpointMode('identity', 'ok');
    emulator.answerIdentityAs(undefined);
    emulator.resetCounts();
  });

  async function signedInCookie(
    email: string,
    groups?: string,
  ): Promise<string> {
    const cookie = authorizationCookieOf(
      await signInWithForm(emulator, email, { groups }),
    );
    if (!cookie) {
      throw new Error('sign-in set no cookie');
    }
    return cookie;
  }

  async function echo(
    cookie: string,
    headers: Record<string, string> = {},
  ): Promise<Echo> {
    const response = await fetch(`${emulator.url}/catalog?x=1`, {
      redirect: 'manual',
      headers: { cookie, ...headers },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Echo;
  }

  function identityWith(cookie: string): Promise<Response> {
    return fetch(`${emulator.url}/cdn-cgi/access/get-identity`, {
      headers: { cookie },
    });
  }

  describe('login', () => {
    it('lists the catalog people as buttons, with a free-text email field', async () => {
      const response = await fetch(
        `${emulator.url}/cdn-cgi/access/login?redirect_url=%2Fdocs`,
      );
      const html = await response.text();
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(html).toContain('Cloudflare Access (local emulator)');
      for (const email of [
        'ada@example.com',
        'grace@example.com',
        'linus@example.com',
        'ci-bot@example.com',
      ]) {
        expect(html).toContain(`data-email="${email}"`);
      }
      expect(html).toContain('Grace Hopper');
      expect(html).toMatch(/engineering, security/);
      expect(html).toMatch(/<input[^>]*name="email"[^>]*id="email"/);
      expect(html).toMatch(
        /<label for="groups">[^<]*<\/label><input type="text" name="groups" id="groups" data-testid="groups">/,
      );
      expect(html).toContain('id="sign-in"');
      expect(html).toContain('name="redirect_url" value="/docs"');
      expect(emulator.requestCount('login')).toBe(1);
    });

    it('escapes people text and refuses to carry an absolute redirect_url', async () => {
      const response = await fetch(
        `${emulator.url}/cdn-cgi/access/login?redirect_url=${encodeURIComponent(
          'https://evil.example/"><x',
        )}`,
      );
      const html = await response.text();
      expect(html).not.toContain('<script>alert(1)</script>');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.toContain('evil.example');
    });

    it('sets an HttpOnly CF_Authorization cookie and redirects to the relative redirect_url', async () => {
      const response = await signInWithForm(emulator, 'ada@example.com', {
        redirectUrl: '/catalog?filter=mine',
      });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('/catalog?filter=mine');
      const [cookie] = response.headers.getSetCookie();
      expect(cookie).toMatch(/^CF_Authorization=[\w-]+\.[\w-]+\.[\w-]+;/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('Path=/');
      expect(cookie).toContain('SameSite=Lax');
    });

    it.each([
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example',
      'catalog',
      '',
      '/a\r\nx: y',
    ])('redirects to / instead of %j', async redirectUrl => {
      const response = await signInWithForm(emulator, 'ada@example.com', {
        redirectUrl,
      });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('/');
    });

    it('refuses a form without an email', async () => {
      const response = await signInWithForm(emulator, 'not an email');
      expect(response.status).toBe(400);
      expect(response.headers.getSetCookie()).toEqual([]);
    });

    it.each([
      ['too many', Array.from({ length: 21 }, (_, i) => `g${i}`).join(',')],
      ['too long', `ok, ${'x'.repeat(101)}`],
    ])(
      'refuses %s typed groups with the login page and no session',
      async (_, groups) => {
        const response = await signInWithForm(emulator, 'new@elsewhere.test', {
          groups,
        });
        expect(response.status).toBe(400);
        expect(response.headers.getSetCookie()).toEqual([]);
        const html = await response.text();
        expect(html).toContain('data-testid="error"');
        expect(html).toContain('data-testid="groups"');
      },
    );

    it('accepts 20 typed groups of 100 characters, empty ones aside', async () => {
      const names = Array.from({ length: 20 }, (_, i) =>
        `${i}`.padEnd(100, 'x'),
      );
      const cookie = await signedInCookie(
        'many@elsewhere.test',
        ` ${names.join(' , ')} ,, `,
      );
      const identity = await (await identityWith(cookie)).json();
      expect(
        identity.groups.map((group: { name: string }) => group.name),
      ).toEqual(names);
    });
  });

  describe('guarding the application', () => {
    it('redirects a request without a session to the login page', async () => {
      const response = await fetch(`${emulator.url}/catalog?x=1`, {
        redirect: 'manual',
      });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(
        '/cdn-cgi/access/login?redirect_url=%2Fcatalog%3Fx%3D1',
      );
      expect(emulator.requestCount('proxy')).toBe(1);
    });

    it("redirects an unpublished-key token, another app's token and a garbage cookie", async () => {
      const { identityNonce } = await emulator.signIn('ada@example.com');
      const claims = {
        identity_nonce: identityNonce,
        email: 'ada@example.com',
      };
      const forged = await emulator.mintToken(claims, { key: 'unpublished' });
      const otherApp = await emulator.mintToken({
        ...claims,
        aud: ['another-app'],
      });
      const good = await emulator.mintToken(claims);
      expect(
        (
          await fetch(`${emulator.url}/`, {
            headers: { cookie: `CF_Authorization=${good}` },
          })
        ).status,
      ).toBe(200);
      for (const cookie of [forged, otherApp, 'garbage'].map(
        token => `CF_Authorization=${token}`,
      )) {
        const response = await fetch(`${emulator.url}/`, {
          redirect: 'manual',
          headers: { cookie },
        });
        expect(response.status).toBe(302);
      }
    });

    it('injects the app token and email, verifiable against the served certs', async () => {
      const cookie = await signedInCookie('grace@example.com');
      const { headers, url } = await echo(cookie);
      expect(url).toBe('/catalog?x=1');
      expect(headers['cf-access-authenticated-user-email']).toBe(
        'grace@example.com',
      );
      const token = headers['cf-access-jwt-assertion'] ?? '';
      const payload = await verifyWithCerts(emulator, token);
      expect(payload).toMatchObject({
        iss: emulator.url,
        aud: ['aud-one', 'aud-two'],
        type: 'app',
        email: 'grace@example.com',
        country: 'GB',
      });
      expect(payload.identity_nonce).toMatch(/^[\w-]{16}$/);
      // The catalog User's cloudflare.com/access-user-id annotation.
      expect(payload.sub).toBe('dc2bb559-919c-40eb-ae1d-4bc1dcbdde0d');
      expect(cookie).toBe(`CF_Authorization=${token}`);
    });

    it('strips spoofed cf-access-* headers', async () => {
      const cookie = await signedInCookie('ada@example.com');
      const { headers } = await echo(cookie, {
        'Cf-Access-Jwt-Assertion': 'forged',
        'Cf-Access-Authenticated-User-Email': 'mallory@example.com',
        'CF-ACCESS-CUSTOM': 'x',
      });
      expect(headers['cf-access-authenticated-user-email']).toBe(
        'ada@example.com',
      );
      expect(headers['cf-access-jwt-assertion']).not.toBe('forged');
      expect(
        Object.keys(headers)
          .filter(name => name.startsWith('cf-access-'))
          .sort(),
      ).toEqual([
        'cf-access-authenticated-user-email',
        'cf-access-jwt-assertion',
      ]);
    });
  });

  describe('get-identity', () => {
    it('returns the identity captured for the session, with catalog groups', async () => {
      const cookie = await signedInCookie('grace@example.com');
      const response = await identityWith(cookie);
      expect(response.status).toBe(200);
      const identity = await response.json();
      const token = cookie.slice('CF_Authorization='.length);
      const claims = decodeJwt(token);
      expect(identity).toMatchObject({
        name: 'Grace Hopper',
        email: 'grace@example.com',
        idp: { type: 'emulator' },
        user_uuid: claims.sub,
        geo: { country: 'GB' },
        amr: ['pwd'],
      });
      // The catalog Groups' cloudflare.com/access-group-id annotations.
      expect(identity.groups).toEqual([
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
      ]);
      expect(identity.id).toMatch(UUID);
      expect(identity.id).not.toBe(identity.user_uuid);
      expect(identity).toEqual({
        ...emulator.identityOf('grace@example.com'),
        iat: identity.iat,
      });
      expect(identity.iat).toBeLessThanOrEqual(claims.iat ?? 0);
      expect(emulator.requestCount('identity')).toBe(1);
    });

    it('accepts the token in Cf-Access-Jwt-Assertion too', async () => {
      const { token } = await emulator.signIn('linus@example.com');
      const response = await fetch(
        `${emulator.url}/cdn-cgi/access/get-identity`,
        {
          headers: { 'Cf-Access-Jwt-Assertion': token },
        },
      );
      expect(await response.json()).toMatchObject({
        name: 'Linus Torvalds',
        groups: [{ name: 'engineering' }],
      });
    });

    it('gives an unknown email a session named after its local part, with no groups', async () => {
      const cookie = await signedInCookie('stranger@elsewhere.test');
      expect(await (await identityWith(cookie)).json()).toMatchObject({
        name: 'stranger',
        email: 'stranger@elsewhere.test',
        groups: [],
      });
    });

    it('gives an unknown email the typed groups, with catalog ids for catalog group names', async () => {
      const cookie = await signedInCookie(
        'newcomer@elsewhere.test',
        ' engineering , , Ops-Guild ',
      );
      const identity = await (await identityWith(cookie)).json();
      expect(identity).toMatchObject({
        name: 'newcomer',
        email: 'newcomer@elsewhere.test',
      });
      expect(identity.groups).toEqual([
        {
          id: '8c18650f-db31-4b22-b0b2-34a441fe843d',
          name: 'engineering',
          email: 'engineering@example.com',
        },
        { id: expect.stringMatching(UUID), name: 'Ops-Guild', email: '' },
      ]);
      // Another stranger in the same group gets the same id for it.
      const other = await signedInCookie('other@elsewhere.test', 'ops-guild');
      expect((await (await identityWith(other)).json()).groups).toEqual([
        { id: identity.groups[1].id, name: 'ops-guild', email: '' },
      ]);
    });

    it('ignores typed groups for a person in the catalog', async () => {
      const cookie = await signedInCookie(
        'linus@example.com',
        'security, ops-guild',
      );
      expect((await (await identityWith(cookie)).json()).groups).toEqual([
        {
          id: '8c18650f-db31-4b22-b0b2-34a441fe843d',
          name: 'engineering',
          email: 'engineering@example.com',
        },
      ]);
    });

    it('answers 401 with an err for missing, invalid, expired or unpublished-key tokens', async () => {
      const { identityNonce } = await emulator.signIn('ada@example.com');
      const expired = await emulator.mintToken({
        identity_nonce: identityNonce,
        iat: 1000,
        nbf: 1000,
        exp: 2000,
      });
      const unpublished = await emulator.mintToken(
        { identity_nonce: identityNonce },
        { key: 'unpublished' },
      );
      const valid = await emulator.mintToken({ identity_nonce: identityNonce });
      expect((await identityWith(`CF_Authorization=${valid}`)).status).toBe(
        200,
      );
      for (const cookie of [
        '',
        'CF_Authorization=nope',
        `CF_Authorization=${expired}`,
        `CF_Authorization=${unpublished}`,
      ]) {
        const response = await identityWith(cookie);
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({ err: expect.any(String) });
      }
    });
  });

  describe('logout', () => {
    it('ends the session, clears the cookie and says so', async () => {
      const cookie = await signedInCookie('ada@example.com');
      expect((await identityWith(cookie)).status).toBe(200);

      const response = await fetch(`${emulator.url}/cdn-cgi/access/logout`, {
        headers: { cookie },
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('You have been signed out');
      expect(response.headers.getSetCookie()[0]).toMatch(
        /^CF_Authorization=;.*Max-Age=0/,
      );
      expect(emulator.requestCount('logout')).toBe(1);

      const identity = await identityWith(cookie);
      expect(identity.status).toBe(401);
      expect(await identity.json()).toEqual({
        err: 'invalid token: ERR_NO_SESSION',
      });
      const app = await fetch(`${emulator.url}/`, {
        redirect: 'manual',
        headers: { cookie },
      });
      expect(app.status).toBe(302);
    });
  });

  describe('certs and endpoint modes', () => {
    it('serves the current key as an RS256 signing JWK', async () => {
      const response = await fetch(emulator.certsUrl);
      const { keys } = await response.json();
      expect(keys).toEqual([
        expect.objectContaining({
          kid: emulator.keys().current.kid,
          kty: 'RSA',
          alg: 'RS256',
          use: 'sig',
        }),
      ]);
      expect(keys[0]).not.toHaveProperty('d');
    });

    it('fails certs and get-identity with 500 in error mode, and counts them', async () => {
      emulator.setEndpointMode('certs', 'error');
      emulator.setEndpointMode('identity', 'error');
      const { token } = await emulator.signIn('ada@example.com');
      expect((await fetch(emulator.certsUrl)).status).toBe(500);
      expect((await identityWith(`CF_Authorization=${token}`)).status).toBe(
        500,
      );
      const jwks = createRemoteJWKSet(new URL(emulator.certsUrl));
      await expect(jwtVerify(token, jwks)).rejects.toBeInstanceOf(
        errors.JOSEError,
      );
      expect(emulator.requestCount('certs')).toBe(2);
      expect(emulator.requestCount('identity')).toBe(1);
      emulator.resetCounts();
      expect(emulator.requestCount('certs')).toBe(0);
    });

    it('never answers in timeout mode, but still counts, until set back to ok', async () => {
      emulator.setEndpointMode('certs', 'timeout');
      emulator.setEndpointMode('identity', 'timeout');
      await expect(
        fetch(emulator.certsUrl, { signal: AbortSignal.timeout(300) }),
      ).rejects.toThrow();
      await expect(
        fetch(`${emulator.url}/cdn-cgi/access/get-identity`, {
          signal: AbortSignal.timeout(300),
        }),
      ).rejects.toThrow();
      expect(emulator.requestCount('certs')).toBe(1);
      expect(emulator.requestCount('identity')).toBe(1);
      emulator.setEndpointMode('certs', 'ok');
      expect((await fetch(emulator.certsUrl)).status).toBe(200);
    });

    it('answers 200 with an err body and no identity in error-body mode', async () => {
      emulator.setEndpointMode('identity', 'error-body');
      const cookie = await signedInCookie('ada@example.com');
      const response = await identityWith(cookie);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain(
        'application/json',
      );
      expect(await response.json()).toEqual({ err: expect.any(String) });
      expect(emulator.requestCount('identity')).toBe(1);
    });

    it('answers a live session as an ended one in ended mode', async () => {
      const { token, identityNonce } = await emulator.signIn('ada@example.com');
      emulator.setEndpointMode('identity', 'ended');
      const response = await identityWith(`CF_Authorization=${token}`);
      expect(response.status).toBe(401);
      const body = await response.json();
      emulator.setEndpointMode('identity', 'ok');
      expect((await identityWith(`CF_Authorization=${token}`)).status).toBe(
        200,
      );
      emulator.endSession(identityNonce);
      const ended = await identityWith(`CF_Authorization=${token}`);
      expect(ended.status).toBe(401);
      expect(await ended.json()).toEqual(body);
    });

    it('redirects to the login page in login-redirect mode', async () => {
      emulator.setEndpointMode('identity', 'login-redirect');
      const cookie = await signedInCookie('ada@example.com');
      const response = await fetch(
        `${emulator.url}/cdn-cgi/access/get-identity`,
        {
          redirect: 'manual',
          headers: { cookie },
        },
      );
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(
        `${emulator.url}/cdn-cgi/access/login?redirect_url=%2Fcdn-cgi%2Faccess%2Fget-identity`,
      );
      expect(await response.text()).toBe('');
      const followed = await fetch(
        `${emulator.url}/cdn-cgi/access/get-identity`,
        { headers: { cookie } },
      );
      expect(followed.status).toBe(200);
      expect(await followed.text()).toContain(
        'Cloudflare Access (local emulator)',
      );
    });

    it("answers 403 with a page that is not Access's in forbidden mode, until set back to ok", async () => {
      const cookie = await signedInCookie('ada@example.com');
      emulator.setEndpointMode('identity', 'forbidden');
      const response = await identityWith(cookie);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(await response.text()).toBe(
        '<html><body>Request blocked by a firewall rule</body></html>',
      );
      expect(emulator.requestCount('identity')).toBe(1);

      // The session itself was never touched.
      emulator.setEndpointMode('identity', 'ok');
      expect((await identityWith(cookie)).status).toBe(200);
    });

    it("answers with another person's identity while answerIdentityAs is set", async () => {
      const { token, sub } = await emulator.signIn('ada@example.com');
      emulator.answerIdentityAs('grace@example.com');
      const response = await identityWith(`CF_Authorization=${token}`);
      expect(response.status).toBe(200);
      const identity = await response.json();
      expect(identity).toEqual({
        ...emulator.identityOf('grace@example.com'),
        iat: identity.iat,
      });
      expect(identity).toMatchObject({
        email: 'grace@example.com',
        name: 'Grace Hopper',
      });
      expect(identity.user_uuid).not.toBe(sub);
      expect(identity.iat).toBeLessThanOrEqual(decodeJwt(token).iat ?? 0);

      const unknown = await emulator.mintToken({
        identity_nonce: 'no-such-session',
      });
      expect((await identityWith(`CF_Authorization=${unknown}`)).status).toBe(
        401,
      );

      emulator.answerIdentityAs(undefined);
      expect(
        await (await identityWith(`CF_Authorization=${token}`)).json(),
      ).toMatchObject({
        email: 'ada@example.com',
        user_uuid: sub,
      });
    });
  });
});

describe('session lifetime', () => {
  it('re-mints an expired token for a live session, keeping its identity_nonce', async () => {
    const emulator = await startAccessEmulator({
      audience: 'aud',
      // Long enough for the re-minted token to be checked on a loaded machine.
      tokenLifetimeSeconds: 3,
    });
    try {
      const first = await emulator.signIn('ada@example.com');
      await sleep(3100);
      await expect(
        verifyWithCerts(emulator, first.token),
      ).rejects.toBeInstanceOf(errors.JWTExpired);

      const response = await fetch(`${emulator.url}/`, {
        redirect: 'manual',
        headers: { cookie: `theme=dark; CF_Authorization=${first.token}` },
      });
      expect(response.status).toBe(200);
      const { headers } = (await response.json()) as Echo;
      const token = headers['cf-access-jwt-assertion'] ?? '';
      expect(token).not.toBe(first.token);
      const payload = await verifyWithCerts(emulator, token);
      expect(payload.identity_nonce).toBe(first.identityNonce);
      expect(payload.email).toBe('ada@example.com');
      // The browser gets the new token, and the upstream sees it in the cookie too.
      expect(authorizationCookieOf(response)).toBe(`CF_Authorization=${token}`);
      expect(headers.cookie).toBe(`theme=dark; CF_Authorization=${token}`);
    } finally {
      await emulator.close();
    }
  });

  it('sends people back to login once the session is over', async () => {
    const emulator = await startAccessEmulator({
      audience: 'aud',
      sessionDurationSeconds: 1,
    });
    try {
      const { token } = await emulator.signIn('ada@example.com');
      await sleep(2100);
      const response = await fetch(`${emulator.url}/home`, {
        redirect: 'manual',
        headers: { cookie: `CF_Authorization=${token}` },
      });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(
        '/cdn-cgi/access/login?redirect_url=%2Fhome',
      );
    } finally {
      await emulator.close();
    }
  });

  it('closes while a timeout-mode request is still hanging', async () => {
    const emulator = await startAccessEmulator({ audience: 'aud' });
    emulator.setEndpointMode('identity', 'timeout');
    const hanging = fetch(`${emulator.url}/cdn-cgi/access/get-identity`);
    hanging.catch(() => {});
    while (emulator.requestCount('identity') === 0) {
      await sleep(10);
    }
    await emulator.close();
    await expect(hanging).rejects.toThrow('fetch failed');
  });
});
