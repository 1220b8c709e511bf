import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { WebSocketServer } from 'ws';
import type { AccessEmulator } from '../types';

export interface RecordedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}

/** A real application to proxy to: records every request and WebSocket upgrade, echoes messages. */
export async function startTestUpstream(): Promise<{
  url: string;
  requests: RecordedRequest[];
  upgrades: RecordedRequest[];
  close(): Promise<void>;
}> {
  const requests: RecordedRequest[] = [];
  const upgrades: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, {
      'content-type': 'text/plain',
      'set-cookie': 'app=1; Path=/',
    });
    res.end('hello from upstream');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    upgrades.push({ method: req.method, url: req.url, headers: req.headers });
    socket.on('message', data => socket.send(`echo:${String(data)}`));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    upgrades,
    close: () =>
      new Promise<void>(resolve => {
        for (const client of wss.clients) {
          client.terminate();
        }
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The CF_Authorization cookie from a response, ready for a Cookie header. */
export function authorizationCookieOf(response: Response): string | undefined {
  const cookie = response.headers
    .getSetCookie()
    .find(value => value.startsWith('CF_Authorization='));
  return cookie?.split(';')[0];
}

/** Signs in through the login form, as a browser or a script would; `groups` is the typed field. */
export async function signInWithForm(
  emulator: AccessEmulator,
  email: string,
  fields: { redirectUrl?: string; groups?: string } = {},
): Promise<Response> {
  const { redirectUrl = '/', groups } = fields;
  const form = new URLSearchParams({ email, redirect_url: redirectUrl });
  if (groups !== undefined) {
    form.set('groups', groups);
  }
  return fetch(`${emulator.url}/cdn-cgi/access/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
}

/** Verifies a token exactly as a relying party would: against the served certs. */
export async function verifyWithCerts(
  emulator: AccessEmulator,
  token: string,
): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(emulator.certsUrl));
  const { payload } = await jwtVerify(token, jwks, {
    issuer: emulator.teamDomain,
    audience: emulator.audience,
    algorithms: ['RS256'],
  });
  return payload;
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
