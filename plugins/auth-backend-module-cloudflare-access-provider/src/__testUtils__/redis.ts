import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** Whether a redis-server binary is on the PATH (Debian's redis-server package). */
export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts a throwaway, in-memory redis-server on a free loopback port, stopped when this process exits. */
export async function startRedis(): Promise<{ url: string }> {
  const port = await freePort();
  // Backstage's cache clients outlive a stopped backend and fail loudly if
  // Redis goes first, so Redis lives until this process dies (setpriv's pdeathsig).
  const redis: ChildProcess = spawn(
    'setpriv',
    [
      '--pdeathsig', 'TERM', '--',
      'redis-server', '--port', String(port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    redis.stdout!.on('data', chunk => {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) {
        resolve();
      }
    });
    redis.once('exit', code =>
      reject(new Error(`redis-server exited with ${code}: ${output}`)),
    );
  });
  return { url: `redis://127.0.0.1:${port}` };
}
