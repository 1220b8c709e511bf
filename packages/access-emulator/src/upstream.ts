import { ServerResponse } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import { jsonReply, send, sendOnSocket, textReply } from './http';

/** Where admitted requests go: a reverse-proxied application, or an echo when there is none. */
export interface Upstream {
  /** Forwards a request; `setCookie` is added to the upstream's response. */
  web(req: IncomingMessage, res: ServerResponse, setCookie?: string): void;
  ws(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends proxied WebSocket connections. */
  close(): void;
  /** Requests sent to each upstream URL so far. */
  counts(): Record<string, number>;
}

/** Without an upstream, answers with the headers the application would have received. */
function echoUpstream(): Upstream {
  return {
    web(req, res, setCookie) {
      const body = { method: req.method, url: req.url, headers: req.headers };
      send(
        res,
        jsonReply(200, body, setCookie ? { 'set-cookie': setCookie } : {}),
      );
    },
    ws(_req, socket) {
      sendOnSocket(
        socket,
        textReply(502, 'No upstream is configured for WebSockets.'),
      );
    },
    close() {},
    counts: () => ({}),
  };
}

/** Where a route's requests go: one upstream, or several taken in turn, as a Tunnel balances over replicas. */
export type RouteTargets = string | string[];

/** Picks upstreams: the longest route prefix a path starts with, else the default; a route's targets in turn. */
function targetPicker(
  fallback: string | undefined,
  routes: Record<string, RouteTargets>,
) {
  const turns = new Map<string, number>();
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  return (url: string | undefined): string | undefined => {
    const path = url ?? '/';
    const prefix = prefixes.find(candidate => path.startsWith(candidate));
    if (!prefix) {
      return fallback;
    }
    const targets = [routes[prefix]].flat();
    const turn = turns.get(prefix) ?? 0;
    turns.set(prefix, turn + 1);
    return targets[turn % targets.length];
  };
}

function proxyUpstream(
  fallback: string | undefined,
  routes: Record<string, RouteTargets>,
  log: (line: string) => void,
): Upstream {
  const targetFor = targetPicker(fallback, routes);
  const counts: Record<string, number> = {};
  // The target each proxied request went to, for its error message.
  const targets = new WeakMap<IncomingMessage, string>();
  const echo = echoUpstream();
  const proxy = httpProxy.createProxyServer({
    ws: true,
    changeOrigin: false,
    xfwd: true,
  });
  const cookies = new WeakMap<IncomingMessage, string>();
  const upstreamSockets = new Set<Duplex>();

  proxy.on('proxyRes', (proxyRes, req) => {
    // A page kept in the browser's cache outlives its Access session: Back or a reopened tab would boot
    // an app whose every load gets the login page. Access asks the origin to say no-store; this one does it for dev servers that cannot.
    const contentType = String(proxyRes.headers['content-type'] ?? '');
    if (
      contentType.startsWith('text/html') &&
      proxyRes.headers['cache-control'] === undefined
    ) {
      proxyRes.headers['cache-control'] = 'no-store';
    }
    const cookie = cookies.get(req);
    if (cookie) {
      proxyRes.headers['set-cookie'] = [
        ...(proxyRes.headers['set-cookie'] ?? []),
        cookie,
      ];
    }
  });
  proxy.on('open', socket => {
    upstreamSockets.add(socket);
    socket.once('close', () => upstreamSockets.delete(socket));
  });
  // An unreachable upstream must give the client a 502, never crash the emulator.
  proxy.on('error', (error, req, res) => {
    const target = targets.get(req) ?? 'the upstream';
    log(
      `upstream ${target} failed for ${req.method} ${req.url}: ${error.message}`,
    );
    const reply = textReply(
      502,
      `Bad gateway: the Access emulator could not reach ${target} (${error.message}).`,
    );
    if (!(res instanceof ServerResponse)) {
      sendOnSocket(res, reply);
    } else if (res.headersSent) {
      res.destroy();
    } else {
      send(res, reply);
    }
  });

  return {
    web(req, res, setCookie) {
      const target = targetFor(req.url);
      if (!target) {
        echo.web(req, res, setCookie);
        return;
      }
      if (setCookie) {
        cookies.set(req, setCookie);
      }
      targets.set(req, target);
      counts[target] = (counts[target] ?? 0) + 1;
      proxy.web(req, res, { target });
    },
    ws(req, socket, head) {
      const target = targetFor(req.url);
      if (!target) {
        echo.ws(req, socket, head);
        return;
      }
      targets.set(req, target);
      counts[target] = (counts[target] ?? 0) + 1;
      proxy.ws(req, socket, head, { target });
    },
    close() {
      for (const socket of upstreamSockets) {
        socket.destroy();
      }
      proxy.close();
    },
    counts: () => ({ ...counts }),
  };
}

export function createUpstream(
  target: string | undefined,
  routes: Record<string, RouteTargets>,
  log: (line: string) => void,
): Upstream {
  return target || Object.keys(routes).length > 0
    ? proxyUpstream(target, routes, log)
    : echoUpstream();
}
