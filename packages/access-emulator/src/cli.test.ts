import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { parseCliArgs } from './cli';

describe('parseCliArgs', () => {
  it('reads every flag', () => {
    expect(
      parseCliArgs([
        '--upstream',
        'http://localhost:3000',
        '--route',
        '/api/=http://localhost:7007',
        '--route',
        '/replicas/=http://localhost:7008,http://localhost:7009',
        '--port',
        '7000',
        '--host',
        'localhost',
        '--issuer',
        'https://acme.cloudflareaccess.com',
        '--audience',
        'local-aud',
        '--audience',
        'second',
        '--catalog',
        'examples/',
        '--service-token',
        'ci.access:se:cret',
        '--token-lifetime',
        '60',
        '--session-duration',
        '600',
        '--rotate-every',
        '30',
        '--country',
        'NL',
      ]),
    ).toEqual({
      upstream: 'http://localhost:3000',
      routes: {
        '/api/': 'http://localhost:7007',
        '/replicas/': ['http://localhost:7008', 'http://localhost:7009'],
      },
      port: 7000,
      host: 'localhost',
      issuer: 'https://acme.cloudflareaccess.com',
      audience: ['local-aud', 'second'],
      catalog: ['examples/'],
      serviceTokens: [{ clientId: 'ci.access', clientSecret: 'se:cret' }],
      tokenLifetimeSeconds: 60,
      sessionDurationSeconds: 600,
      keyRotationIntervalSeconds: 30,
      country: 'NL',
    });
  });

  it('asks for help with --help or -h, even without other flags', () => {
    expect(parseCliArgs(['--help'])).toBe('help');
    expect(parseCliArgs(['-h'])).toBe('help');
  });

  it.each([
    [[], /--audience is required/],
    [['--audience', 'a', '--port', 'x'], /--port/],
    [['--audience', 'a', '--route', 'api=http://x'], /--route/],
    [['--audience', 'a', '--route', '/api/=localhost:7007'], /--route/],
    [['--audience', 'a', '--token-lifetime', '0'], /--token-lifetime/],
    [['--audience', 'a', '--rotate-every', '1.5'], /--rotate-every/],
    [['--audience', 'a', '--service-token', 'no-secret'], /--service-token/],
    [['--audience', 'a', '--service-token', 'id:'], /--service-token/],
    [['--audience', 'a', '--nope'], /nope/],
    [['--audience', 'a', 'stray'], /stray/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});

describe('bin/access-emulator', () => {
  it('prints the team domain, serves certs and stops cleanly on SIGTERM', async () => {
    const bin = resolve(__dirname, '../bin/access-emulator');
    const child = spawn(
      process.execPath,
      [bin, '--audience', 'cli-aud', '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      let output = '';
      const url = await new Promise<string>((done, fail) => {
        child.stdout.on('data', chunk => {
          output += String(chunk);
          const match = output.match(
            /Cloudflare Access emulator on (http:\/\/127\.0\.0\.1:\d+) /,
          );
          if (match) {
            done(match[1]);
          }
        });
        child.once('exit', code =>
          fail(new Error(`exited with ${code}: ${output}`)),
        );
      });
      expect(output).toContain(
        'team domain for auth.providers.cfaccess.teamDomain',
      );
      const { keys } = await (
        await fetch(`${url}/cdn-cgi/access/certs`)
      ).json();
      expect(keys).toHaveLength(1);

      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
