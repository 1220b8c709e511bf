import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A complete response, so the same answer can go to an HTTP request or a refused WebSocket upgrade. */
export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body: string;
}

export function textReply(
  status: number,
  body: string,
  headers: Reply['headers'] = {},
): Reply {
  return {
    status,
    body: `${body}\n`,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  };
}

export function jsonReply(
  status: number,
  value: unknown,
  headers: Reply['headers'] = {},
): Reply {
  return {
    status,
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  };
}

export function htmlReply(
  status: number,
  body: string,
  headers: Reply['headers'] = {},
): Reply {
  return {
    status,
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
  };
}

export function redirectReply(
  location: string,
  headers: Reply['headers'] = {},
): Reply {
  return { status: 302, body: '', headers: { location, ...headers } };
}

export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-length': Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
}

/** Answers an upgrade request on its raw socket and closes it. */
export function sendOnSocket(socket: Duplex, reply: Reply): void {
  const lines = [
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}`,
  ];
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      lines.push(`${name}: ${item}`);
    }
  }
  lines.push(
    `content-length: ${Buffer.byteLength(reply.body)}`,
    'connection: close',
  );
  socket.end(`${lines.join('\r\n')}\r\n\r\n${reply.body}`);
}

/** Reads a urlencoded body, refusing anything larger than a login form needs. */
export async function readForm(
  req: IncomingMessage,
  limitBytes = 16 * 1024,
): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limitBytes) {
      throw new Error('Form body too large');
    }
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
