import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { startAccessEmulator } from './emulator';
import {
  authorizationCookieOf,
  signInWithForm,
  startTestUpstream,
  verifyWithCerts,
} from './__testUtils__/testHelpers';
import type { AccessEmulator } from './types';

type TestUpstream = Awaited<ReturnType<typeof startTestUpstream>>;

/** Opens a WebSocket and resolves with the first message echoed back, or rejects with the refusal. */
function echoOverWebSocket(
  url: string,
  headers: Record<string, string>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('open', () => socket.send('ping'));
    socket.on('message', data => {
      resolve(String(data));
      socket.close();
    });
    socket.on('unexpected-response', (_req, res) => {
      reject(new Error(`refused with ${res.statusCode}`));
      socket.terminate();
    });
    socket.on('error', reject);
  });
}

describe('proxying to a real upstream', () => {
  let upstream: TestUpstream;
  let emulator: AccessEmulator;

  beforeAll(async () => {
    upstream = await startTestUpstream();
    emulator = await startAccessEmulator({
      audience: 'aud',
      upstream: upstream.url,
      serviceTokens: [{ clientId: 'ci.access', clientSecret: 's3cret' }],
    });
  });
  afterAll(async () => {
    await emulator.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.upgrades.length = 0;
  });

  async function cookieFor(email: string): Promise<string> {
    return authorizationCookieOf(await signInWithForm(emulator, email)) ?? '';
  }

  it('forwards a signed-in request with the Access headers and returns the upstream response', async () => {
    const cookie = await cookieFor('ada@example.com');
    const response = await fetch(`${emulator.url}/api/thing?q=1`, {
      headers: {
        cookie,
        'cf-access-authenticated-user-email': 'mallory@example.com',
      },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from upstream');
    expect(response.headers.getSetCookie()).toEqual(['app=1; Path=/']);

    expect(upstream.requests).toHaveLength(1);
    const [{ url, headers }] = upstream.requests;
    expect(url).toBe('/api/thing?q=1');
    expect(headers.host).toBe(new URL(emulator.url).host);
    expect(headers['x-forwarded-for']).toBeDefined();
    expect(headers['cf-access-authenticated-user-email']).toBe(
      'ada@example.com',
    );
    const payload = await verifyWithCerts(
      emulator,
      String(headers['cf-access-jwt-assertion']),
    );
    expect(payload.email).toBe('ada@example.com');
  });

  it('does not reach the upstream without a session', async () => {
    const response = await fetch(`${emulator.url}/api/thing`, {
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    expect(upstream.requests).toHaveLength(0);
  });

  it('forwards a good service token as a JWT with common_name and an empty sub', async () => {
    const response = await fetch(`${emulator.url}/api/catalog`, {
      headers: {
        'CF-Access-Client-Id': 'ci.access',
        'CF-Access-Client-Secret': 's3cret',
      },
    });
    expect(response.status).toBe(200);
    const [{ headers }] = upstream.requests;
    const payload = await verifyWithCerts(
      emulator,
      String(headers['cf-access-jwt-assertion']),
    );
    expect(payload).toMatchObject({
      common_name: 'ci.access',
      sub: '',
      type: 'app',
      aud: ['aud'],
    });
    expect(payload).not.toHaveProperty('email');
    expect(headers).not.toHaveProperty('cf-access-authenticated-user-email');
    expect(headers).not.toHaveProperty('cf-access-client-id');
    expect(headers).not.toHaveProperty('cf-access-client-secret');
  });

  it.each([
    [
      'a wrong secret',
      {
        'CF-Access-Client-Id': 'ci.access',
        'CF-Access-Client-Secret': 'guess',
      },
    ],
    [
      'an unknown client id',
      {
        'CF-Access-Client-Id': 'who.access',
        'CF-Access-Client-Secret': 's3cret',
      },
    ],
    ['a missing secret', { 'CF-Access-Client-Id': 'ci.access' }],
  ])(
    'answers 401 to %s and never reaches the upstream',
    async (_case, headers) => {
      const response = await fetch(`${emulator.url}/api/catalog`, {
        headers,
        redirect: 'manual',
      });
      expect(response.status).toBe(401);
      expect(await response.text()).toMatch(/^Forbidden/);
      expect(upstream.requests).toHaveLength(0);
    },
  );

  it('passes a signed-in WebSocket upgrade through, with the Access headers', async () => {
    const cookie = await cookieFor('grace@example.com');
    const wsUrl = `${emulator.url.replace('http', 'ws')}/live-reload`;
    const reply = await echoOverWebSocket(wsUrl, {
      cookie,
      'Cf-Access-Authenticated-User-Email': 'mallory@example.com',
    });
    expect(reply).toBe('echo:ping');
    expect(upstream.upgrades).toHaveLength(1);
    const [{ url, headers }] = upstream.upgrades;
    expect(url).toBe('/live-reload');
    expect(headers['cf-access-authenticated-user-email']).toBe(
      'grace@example.com',
    );
    const payload = await verifyWithCerts(
      emulator,
      String(headers['cf-access-jwt-assertion']),
    );
    expect(payload.email).toBe('grace@example.com');
  });

  it('refuses a WebSocket upgrade without a session or with a bad service token', async () => {
    const wsUrl = `${emulator.url.replace('http', 'ws')}/live-reload`;
    await expect(echoOverWebSocket(wsUrl, {})).rejects.toThrow(
      'refused with 302',
    );
    await expect(
      echoOverWebSocket(wsUrl, {
        'CF-Access-Client-Id': 'ci.access',
        'CF-Access-Client-Secret': 'no',
      }),
    ).rejects.toThrow('refused with 401');
    expect(upstream.upgrades).toHaveLength(0);
  });

  it('counts proxied requests and upgrades', async () => {
    emulator.resetCounts();
    await fetch(`${emulator.url}/one`, { redirect: 'manual' });
    await expect(
      echoOverWebSocket(`${emulator.url.replace('http', 'ws')}/two`, {}),
    ).rejects.toThrow();
    expect(emulator.requestCount('proxy')).toBe(2);
  });
});

describe('proxy edge cases', () => {
  it('adds a refreshed cookie next to the upstream cookies', async () => {
    const upstream = await startTestUpstream();
    // A lifetime under the 30 s refresh margin makes every request refresh the token.
    const emulator = await startAccessEmulator({
      audience: 'aud',
      upstream: upstream.url,
      tokenLifetimeSeconds: 20,
    });
    try {
      const { token } = await emulator.signIn('ada@example.com');
      const response = await fetch(`${emulator.url}/`, {
        headers: { cookie: `CF_Authorization=${token}` },
      });
      const cookies = response.headers.getSetCookie();
      expect(cookies).toContain('app=1; Path=/');
      const refreshed =
        authorizationCookieOf(response)?.slice('CF_Authorization='.length) ??
        '';
      expect(decodeJwt(refreshed).identity_nonce).toBe(
        decodeJwt(token).identity_nonce,
      );
      expect(upstream.requests[0].headers['cf-access-jwt-assertion']).toBe(
        refreshed,
      );
    } finally {
      await emulator.close();
      await upstream.close();
    }
  });

  it('answers 502 when the upstream is down, and keeps serving', async () => {
    const closed = createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise(resolve => closed.close(resolve));

    const emulator = await startAccessEmulator({
      audience: 'aud',
      upstream: `http://127.0.0.1:${port}`,
    });
    try {
      const { token } = await emulator.signIn('ada@example.com');
      const cookie = `CF_Authorization=${token}`;
      const response = await fetch(`${emulator.url}/`, { headers: { cookie } });
      expect(response.status).toBe(502);
      expect(await response.text()).toMatch(/^Bad gateway/);
      await expect(
        echoOverWebSocket(`${emulator.url.replace('http', 'ws')}/ws`, {
          cookie,
        }),
      ).rejects.toThrow('refused with 502');
      expect((await fetch(emulator.certsUrl)).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  it('closes open WebSockets on close()', async () => {
    const upstream = await startTestUpstream();
    const emulator = await startAccessEmulator({
      audience: 'aud',
      upstream: upstream.url,
    });
    try {
      const { token } = await emulator.signIn('ada@example.com');
      const socket = new WebSocket(`${emulator.url.replace('http', 'ws')}/ws`, {
        headers: { cookie: `CF_Authorization=${token}` },
      });
      await new Promise(resolve => socket.once('open', resolve));
      const closed = new Promise(resolve => socket.once('close', resolve));
      await emulator.close();
      await closed;
      expect(socket.readyState).toBe(WebSocket.CLOSED);
    } finally {
      await emulator.close();
      await upstream.close();
    }
  });
});

describe('routes to several upstreams', () => {
  it('sends a path prefix to its own upstream, like a Tunnel ingress rule', async () => {
    const app = await startTestUpstream();
    const api = await startTestUpstream();
    const emulator = await startAccessEmulator({
      audience: 'aud',
      upstream: app.url,
      routes: { '/api/': api.url, '/api/special/': app.url },
    });
    try {
      const cookie =
        authorizationCookieOf(
          await signInWithForm(emulator, 'ada@example.com'),
        ) ?? '';
      for (const path of [
        '/catalog',
        '/api/catalog/entities',
        '/api/special/x',
        '/apix',
      ]) {
        const response = await fetch(`${emulator.url}${path}`, {
          headers: { cookie },
        });
        expect(response.status).toBe(200);
      }
      expect(app.requests.map(r => r.url)).toEqual([
        '/catalog',
        '/api/special/x',
        '/apix',
      ]);
      expect(api.requests.map(r => r.url)).toEqual(['/api/catalog/entities']);
      expect(api.requests[0].headers['cf-access-jwt-assertion']).toBeDefined();
    } finally {
      await emulator.close();
      await app.close();
      await api.close();
    }
  });

  it("takes a route's upstreams in turn, as a Tunnel balances over replicas, and counts them", async () => {
    const first = await startTestUpstream();
    const second = await startTestUpstream();
    const emulator = await startAccessEmulator({
      audience: 'aud',
      routes: { '/api/': [first.url, second.url] },
    });
    try {
      const cookie =
        authorizationCookieOf(
          await signInWithForm(emulator, 'ada@example.com'),
        ) ?? '';
      for (let i = 0; i < 4; i++) {
        expect(
          (await fetch(`${emulator.url}/api/${i}`, { headers: { cookie } }))
            .status,
        ).toBe(200);
      }
      expect(first.requests.map(r => r.url)).toEqual(['/api/0', '/api/2']);
      expect(second.requests.map(r => r.url)).toEqual(['/api/1', '/api/3']);
      expect(emulator.upstreamRequestCounts()).toEqual({
        [first.url]: 2,
        [second.url]: 2,
      });
    } finally {
      await emulator.close();
      await first.close();
      await second.close();
    }
  });
});

describe('the headers of upstream answers', () => {
  let upstream: ReturnType<typeof createServer>;
  let emulator: AccessEmulator;

  beforeAll(async () => {
    // Answers by path: a page without Cache-Control, a page with its own, and JSON.
    upstream = createServer((req, res) => {
      const headers: Record<string, string> = {
        etag: '"v1"',
        'x-upstream': 'kept',
        'content-type': req.url === '/data' ? 'application/json' : 'text/html',
      };
      if (req.url === '/cached') {
        headers['cache-control'] = 'public, max-age=60';
      }
      res.writeHead(200, headers).end(req.url === '/data' ? '{}' : '<p>hi</p>');
    });
    await new Promise<void>(resolve =>
      upstream.listen(0, '127.0.0.1', resolve),
    );
    const { port } = upstream.address() as AddressInfo;
    emulator = await startAccessEmulator({
      audience: 'aud',
      upstream: `http://127.0.0.1:${port}`,
    });
  });
  afterAll(async () => {
    await emulator.close();
    upstream.closeAllConnections();
    await new Promise(resolve => upstream.close(resolve));
  });

  async function get(path: string): Promise<Headers> {
    const cookie =
      authorizationCookieOf(
        await signInWithForm(emulator, 'ada@example.com'),
      ) ?? '';
    const response = await fetch(`${emulator.url}${path}`, {
      headers: { cookie },
    });
    await response.text();
    return response.headers;
  }

  it('marks a page that says nothing about caching no-store, so that it cannot outlive its Access session', async () => {
    const headers = await get('/page');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('etag')).toBe('"v1"');
    expect(headers.get('x-upstream')).toBe('kept');
  });

  it("passes the upstream's own Cache-Control and other headers through", async () => {
    const headers = await get('/cached');
    expect(headers.get('cache-control')).toBe('public, max-age=60');
    expect(headers.get('x-upstream')).toBe('kept');
  });

  it('leaves answers other than pages as they are', async () => {
    const headers = await get('/data');
    expect(headers.get('cache-control')).toBeNull();
    expect(headers.get('content-type')).toBe('application/json');
  });
});
