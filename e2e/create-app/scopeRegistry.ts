// An npm registry for the @cfaccess scope alone, serving the packed tarballs,
// so that the app installs our packages by name as an adopter does once they
// are published (with their ranges between each other); every other package
// comes from the public registry. Hand-written: a registry package such as
// verdaccio would add hundreds of dependencies for these three routes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

export interface ScopeRegistry {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves each tarball as the one version of its package, published at
 * `published` (create-app's yarn holds back versions younger than 3 days).
 */
export async function startScopeRegistry(
  tarballs: string[],
  published: Date,
): Promise<ScopeRegistry> {
  const time = published.toISOString();
  const packuments = new Map<string, object>();
  const files = new Map<string, Buffer>();
  const server = createServer((request, response) => {
    const path = decodeURIComponent(request.url ?? '/');
    const file = files.get(path);
    const packument = packuments.get(path.slice(1).toLowerCase());
    if (file) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(file);
    } else if (packument) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(packument));
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":"not found"}');
    }
  });
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const tarball of tarballs) {
    const data = readFileSync(tarball);
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], {
        encoding: 'utf8',
      }),
    );
    const route = `/tarballs/${basename(tarball)}`;
    files.set(route, data);
    packuments.set(manifest.name.toLowerCase(), {
      name: manifest.name,
      'dist-tags': { latest: manifest.version },
      time: { [manifest.version]: time, created: time },
      versions: {
        [manifest.version]: {
          ...manifest,
          dist: {
            tarball: `${url}${route}`,
            shasum: createHash('sha1').update(data).digest('hex'),
            integrity: `sha512-${createHash('sha512')
              .update(data)
              .digest('base64')}`,
          },
        },
      },
    });
  }
  return {
    url,
    close: () => new Promise<void>(done => server.close(() => done())),
  };
}
