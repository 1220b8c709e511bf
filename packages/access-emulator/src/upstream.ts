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

function proxyUpstream(target: string, log: (line: string) => void): Upstream {
  const proxy = httpProxy.createProxyServer({ target, ws: true, changeOrigin: false, xfwd: true });
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
      if (setCookie) {
        cookies.set(req, setCookie);
      }
      proxy.web(req, res);
    },
    ws(req, socket, head) {
      proxy.ws(req, socket, head);
    },
    close() {
      for (const socket of upstreamSockets) {
        socket.destroy();
      }
      proxy.close();
    },
  };
}

export function createUpstream(target: string | undefined, log: (line: string) => void): Upstream {
  return target ? proxyUpstream(target, log) : echoUpstream();
}
