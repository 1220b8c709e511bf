import { execFile } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';

export interface TeamDomainProxy {
  /** The self-signed certificate, for NODE_EXTRA_CA_CERTS. */
  certFile: string;
  close(): Promise<void>;
}

/** A one-day self-signed certificate for the host name, made with the openssl CLI. */
async function selfSignedCertificate(host: string, dir: string) {
  const keyFile = join(dir, `${host}.key.pem`);
  const certFile = join(dir, `${host}.cert.pem`);
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    `/CN=${host}`,
    '-addext',
    `subjectAltName=DNS:${host}`,
  ]);
  return {
    certFile,
    key: await readFile(keyFile),
    cert: await readFile(certFile),
  };
}

/**
 * Serves https://<host> on 127.0.0.1:443 and forwards every request, as it
 * is, to the emulator over HTTP: the upstream module can only call
 * https://<team>.cloudflareaccess.com.
 */
export async function startTeamDomainProxy(options: {
  host: string;
  target: string;
  workDir: string;
}): Promise<TeamDomainProxy> {
  const { certFile, key, cert } = await selfSignedCertificate(
    options.host,
    options.workDir,
  );
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });

  const server = createServer({ key, cert }, (req, res) => {
    const forwarded = request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', error => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bench team-domain proxy: ${error.message}`);
    });
    req.pipe(forwarded);
  });
  const sockets = new Set<Duplex>();
  server.on('connection', socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((done, fail) => {
    server.once('error', error =>
      fail(
        new Error(
          `cannot serve https://${options.host} on 127.0.0.1:443: ${error.message}`,
        ),
      ),
    );
    server.listen(443, '127.0.0.1', done);
  });

  return {
    certFile,
    close: () =>
      new Promise(done => {
        server.close(() => done());
        for (const socket of sockets) {
          socket.destroy();
        }
        agent.destroy();
      }),
  };
}
