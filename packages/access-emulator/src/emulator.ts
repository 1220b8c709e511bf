import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { People, strangerGroupNames } from './catalog';
import { skippedUsersLine } from './pages';
import { EndpointControls } from './controls';
import { AccessEdge } from './edge';
import { accessIdentity } from './identity';
import { KeyRing } from './keys';
import { attachAccessRoutes } from './server';
import { Sessions } from './sessions';
import { AppTokens, nowSeconds } from './tokens';
import type { AccessEmulator, AccessEmulatorOptions } from './types';
import { createUpstream } from './upstream';

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `Access emulator option ${name} must be a positive number of seconds, got ${value}`,
    );
  }
  return value;
}

function audienceList(audience: string | string[]): string[] {
  const list = [audience].flat();
  if (
    list.length === 0 ||
    list.some(tag => typeof tag !== 'string' || tag === '')
  ) {
    throw new Error(
      'Access emulator option audience must be one or more non-empty AUD tags',
    );
  }
  return list;
}

function checkHttpUrl(name: string, value: string | undefined): void {
  if (value !== undefined && !/^https?:\/\/[^/]/.test(value)) {
    throw new Error(
      `Access emulator option ${name} must be an http(s) URL, got ${value}`,
    );
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The URL people and Backstage use: the configured host name, so it can be the token issuer. */
function baseUrl(host: string, port: number): string {
  // A wildcard address is not somewhere a browser can go; its loopback twin is.
  const wildcards: Record<string, string> = {
    '0.0.0.0': '127.0.0.1',
    '::': '::1',
  };
  const name = wildcards[host] ?? host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

/** Starts a local Cloudflare Access edge; resolves once it is listening. */
export async function startAccessEmulator(
  options: AccessEmulatorOptions,
): Promise<AccessEmulator> {
  const audience = audienceList(options.audience);
  const tokenLifetimeSeconds = positive(
    'tokenLifetimeSeconds',
    options.tokenLifetimeSeconds ?? 3600,
  );
  const sessionDurationSeconds = positive(
    'sessionDurationSeconds',
    options.sessionDurationSeconds ?? 86400,
  );
  const rotationSeconds =
    options.keyRotationIntervalSeconds === undefined
      ? undefined
      : positive(
          'keyRotationIntervalSeconds',
          options.keyRotationIntervalSeconds,
        );
  checkHttpUrl('upstream', options.upstream);
  checkHttpUrl('issuer', options.issuer);
  for (const [prefix, target] of Object.entries(options.routes ?? {})) {
    if (!prefix.startsWith('/')) {
      throw new Error(
        `Access emulator route ${prefix} must be a path starting with /`,
      );
    }
    const targets = [target].flat();
    if (targets.length === 0) {
      throw new Error(`Access emulator route ${prefix} has no upstream`);
    }
    targets.forEach(url => checkHttpUrl(`routes['${prefix}']`, url));
  }
  const country = options.country ?? 'GB';
  const log = options.logger ?? (() => {});
  const host = options.host ?? '127.0.0.1';

  const [keys, people] = await Promise.all([
    KeyRing.create(),
    People.load(options.catalog, options.users),
  ]);
  if (people.skippedUsers.length > 0) {
    log(skippedUsersLine(people.skippedUsers));
  }

  const server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await listen(server, options.port ?? 0, host);
  const url = baseUrl(host, (server.address() as AddressInfo).port);

  const issuer = options.issuer?.replace(/\/$/, '') ?? url;
  const tokens = new AppTokens(keys, {
    issuer,
    audience,
    lifetimeSeconds: tokenLifetimeSeconds,
  });
  const sessions = new Sessions(sessionDurationSeconds);
  const edge = new AccessEdge(tokens, sessions, people, {
    country,
    tokenLifetimeSeconds,
    serviceTokens: options.serviceTokens ?? [],
  });
  const controls = new EndpointControls();
  const upstream = createUpstream(options.upstream, options.routes ?? {}, log);
  attachAccessRoutes(server, {
    edge,
    keys,
    people,
    controls,
    upstream,
    country,
    url,
    log,
  });

  const rotateKeys = async () => {
    await keys.rotate();
    log(`rotated signing keys; current kid ${keys.signingKey('current').kid}`);
  };
  const rotationTimer =
    rotationSeconds === undefined
      ? undefined
      : setInterval(() => {
          rotateKeys().catch(error =>
            log(`key rotation failed: ${String(error)}`),
          );
        }, rotationSeconds * 1000).unref();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>(resolve => {
      clearInterval(rotationTimer);
      upstream.close();
      server.close(() => resolve());
      // Hanging 'timeout' requests, keep-alive connections and WebSockets would keep the server open.
      for (const socket of sockets) {
        socket.destroy();
      }
    });
    return closing;
  };

  return {
    url,
    teamDomain: issuer,
    certsUrl: `${url}/cdn-cgi/access/certs`,
    audience: [...audience],
    async signIn(email, signInOptions = {}) {
      const groups = strangerGroupNames(signInOptions.groups ?? []);
      if (!groups.ok) {
        throw new Error(`Access emulator signIn: ${groups.reason}`);
      }
      const { session, token } = await edge.signIn(email, groups.names);
      return {
        token,
        identityNonce: session.identityNonce,
        sub: session.person.userId,
      };
    },
    identityOf: email =>
      accessIdentity(people.identify(email), nowSeconds(), country),
    mintToken: (claims, mintOptions) => tokens.mint(claims, mintOptions),
    mintServiceToken: (clientId, claims, mintOptions) =>
      edge.serviceToken(clientId, claims, mintOptions),
    rotateKeys,
    keys: () => keys.publicKeys(),
    setEndpointMode: (endpoint, mode) => controls.setMode(endpoint, mode),
    answerIdentityAs: email => {
      controls.identityAs = email;
    },
    requestCount: endpoint => controls.count(endpoint),
    upstreamRequestCounts: () => upstream.counts(),
    resetCounts: () => controls.resetCounts(),
    endSession: identityNonce => edge.endSession(identityNonce),
    close,
  };
}
