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
}

/** Without an upstream, answers with the headers the application would have received. */
function echoUpstream(): Upstream {
  return {
    web(req, res, setCookie) {
      const body = { method: req.method, url: req.url, headers: req.headers };
      send(res, jsonReply(200, body, setCookie ? { 'set-cookie': setCookie } : {}));
    },
    ws(_req, socket) {
      sendOnSocket(socket, textReply(502, 'No upstream is configured for WebSockets.'));
    },
    close() {},
  };
}

/** The upstream for a request: the longest route prefix it starts with, else the default. */
function targetFor(url: string | undefined, fallback: string | undefined, routes: Record<string, string>) {
  const path = url ?? '/';
  const prefix = Object.keys(routes)
    .filter(candidate => path.startsWith(candidate))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? routes[prefix] : fallback;
}

function proxyUpstream(
  fallback: string | undefined,
  routes: Record<string, string>,
  log: (line: string) => void,
): Upstream {
  const echo = echoUpstream();
  const proxy = httpProxy.createProxyServer({ ws: true, changeOrigin: false, xfwd: true });
  const cookies = new WeakMap<IncomingMessage, string>();
  const upstreamSockets = new Set<Duplex>();

  proxy.on('proxyRes', (proxyRes, req) => {
    const cookie = cookies.get(req);
    if (cookie) {
      proxyRes.headers['set-cookie'] = [...(proxyRes.headers['set-cookie'] ?? []), cookie];
    }
  });
  proxy.on('open', socket => {
    upstreamSockets.add(socket);
    socket.once('close', () => upstreamSockets.delete(socket));
  });
  // An unreachable upstream must give the client a 502, never crash the emulator.
  proxy.on('error', (error, req, res) => {
    const target = targetFor(req.url, fallback, routes);
    log(`upstream ${target} failed for ${req.method} ${req.url}: ${error.message}`);
    const reply = textReply(502, `Bad gateway: the Access emulator could not reach ${target} (${error.message}).`);
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
      const target = targetFor(req.url, fallback, routes);
      if (!target) {
        echo.web(req, res, setCookie);
        return;
      }
      if (setCookie) {
        cookies.set(req, setCookie);
      }
      proxy.web(req, res, { target });
    },
    ws(req, socket, head) {
      const target = targetFor(req.url, fallback, routes);
      if (!target) {
        echo.ws(req, socket, head);
        return;
      }
      proxy.ws(req, socket, head, { target });
    },
    close() {
      for (const socket of upstreamSockets) {
        socket.destroy();
      }
      proxy.close();
    },
  };
}

export function createUpstream(
  target: string | undefined,
  routes: Record<string, string>,
  log: (line: string) => void,
): Upstream {
  return target || Object.keys(routes).length > 0 ? proxyUpstream(target, routes, log) : echoUpstream();
}
