// The packages as users get them: packed, installed outside this workspace
// into standalone Backstage backends of both supported lines, and run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AccessEmulator } from '@cfaccess/access-emulator';
import { freePort } from '../../packages/bench/src/backendProcess';
import { STANDALONE_NPM_INSTALL } from '../../packages/bench/src/upstreamModule';
import { PUBLISHED_PACKAGES, output, pack } from '../support/pack';
import { REPO_ROOT } from '../support/paths';

const FIXTURES = join(__dirname, 'fixtures');
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
const ESBUILD = join(REPO_ROOT, 'node_modules/esbuild/bin/esbuild');
const CATALOG_FILE = join(REPO_ROOT, 'examples/org.yaml');
const INSTALL_TIMEOUT_MS = 600_000;
const START_TIMEOUT_MS = 120_000;

/** The standalone backends; the emulator's tarball is installed in the first. */
const BACKENDS = [
  { name: 'backend-1.55', providers: ['cfaccess'] },
  { name: 'backend-current', providers: ['cfaccess', 'cfaccess-custom'] },
];

/** Apps of both lines; the 1.55 one gets the current one's src and tsconfig. */
const REACT_PROJECTS = ['react-library', 'react-library-1.55'];

const SERVICE_TOKEN_ID = 'packaging-check.access';

// The range check npm itself makes (semver ships no types of its own).
const semver: {
  satisfies(version: string, range: string): boolean;
} = require('semver');

/** Printed for each backend, and checked against what its fixture asks for. */
const BACKSTAGE_PACKAGES = [
  '@backstage/backend-defaults',
  '@backstage/plugin-auth-backend',
  '@backstage/plugin-catalog-backend',
  '@backstage/backend-plugin-api',
  '@backstage/plugin-auth-node',
];

const work = mkdtempSync(join(tmpdir(), 'cfaccess-packaging-'));

/** Runs a command to completion, output to a log file in the work folder; rejects on failure. */
function run(command: string, args: string[], cwd: string, log: string) {
  const out = openSync(join(work, `${log}.log`), 'a');
  const child = spawn(command, args, { cwd, stdio: ['ignore', out, out] });
  return new Promise<void>((done, fail) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.once('error', fail);
    child.once('exit', code => {
      clearTimeout(timer);
      if (code === 0) {
        done();
      } else {
        fail(
          new Error(
            `${command} ${args.join(
              ' ',
            )} exited ${code}; see ${work}/${log}.log`,
          ),
        );
      }
    });
  });
}

function npmInstall(name: string) {
  return run('npm', STANDALONE_NPM_INSTALL, join(work, name), name);
}

function refresh(
  url: string,
  provider: string,
  token: string,
  method: 'GET' | 'POST' = 'GET',
) {
  return fetch(`${url}/api/auth/${provider}/refresh`, {
    method,
    headers: {
      'cf-access-jwt-assertion': token,
      'x-requested-with': 'XMLHttpRequest',
    },
  });
}

async function userEntityRef(response: Response): Promise<string> {
  const body = await response.text();
  assert.equal(response.status, 200, body);
  return JSON.parse(body).backstageIdentity.identity.userEntityRef;
}

async function stop(child: ChildProcess) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise(done => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
}

describe('the packed packages, installed outside the workspace', () => {
  const files: Record<string, string[]> = {};
  let emulator: AccessEmulator;

  before(
    async () => {
      mkdirSync(join(work, 'tarballs'));
      for (const { dir, tarball } of PUBLISHED_PACKAGES) {
        files[dir] = await pack(dir, join(work, 'tarballs'), tarball);
      }
      cpSync(FIXTURES, work, { recursive: true });
      for (const shared of ['src', 'tsconfig.json']) {
        cpSync(
          join(FIXTURES, REACT_PROJECTS[0], shared),
          join(work, REACT_PROJECTS[1], shared),
          {
            recursive: true,
          },
        );
      }
      await Promise.all(
        [...BACKENDS.map(b => b.name), ...REACT_PROJECTS].map(npmInstall),
      );
      await Promise.all(
        BACKENDS.map(({ name }) =>
          run(
            process.execPath,
            [
              TSC,
              '--outDir',
              'dist',
              '--rootDir',
              'src',
              '--module',
              'commonjs',
              '--target',
              'es2022',
              '--esModuleInterop',
              '--strict',
              '--skipLibCheck',
              'src/index.ts',
            ],
            join(work, name),
            name,
          ),
        ),
      );
      // The programmatic API of the installed emulator tarball, not the workspace's source.
      const installed = join(
        work,
        BACKENDS[0].name,
        'node_modules/@cfaccess/access-emulator',
      );
      const { startAccessEmulator } =
        require(installed) as typeof import('@cfaccess/access-emulator');
      emulator = await startAccessEmulator({
        audience: 'packaging-aud',
        catalog: [CATALOG_FILE],
      });
    },
    { timeout: INSTALL_TIMEOUT_MS * 2 },
  );

  // The installs are large; the logs stay for a failure to point at.
  after(async () => {
    await emulator?.close();
    for (const name of [...BACKENDS.map(b => b.name), ...REACT_PROJECTS]) {
      rmSync(join(work, name, 'node_modules'), {
        recursive: true,
        force: true,
      });
    }
  });

  it('packs code, types and bins', () => {
    for (const { dir } of PUBLISHED_PACKAGES) {
      const manifest = require(join(REPO_ROOT, dir, 'package.json'));
      const expected = [
        manifest.publishConfig.main,
        manifest.publishConfig.types,
        ...Object.values<string>(manifest.bin ?? {}),
      ];
      for (const file of expected) {
        assert.ok(
          files[dir].includes(file),
          `${dir}: the tarball has no ${file}`,
        );
      }
      // Every entry of "files" (dist, bin, migrations, the config schema) made it in;
      // backstage-cli's prepack compiles config.d.ts into config.schema.json.
      for (const entry of manifest.files as string[]) {
        const packed =
          entry === manifest.configSchema ? 'config.schema.json' : entry;
        assert.ok(
          files[dir].some(
            file => file === packed || file.startsWith(`${packed}/`),
          ),
          `${dir}: the tarball has nothing of ${packed}`,
        );
      }
    }
  });

  it('runs the bins of the installed tarballs', async () => {
    for (const bin of ['cfaccess-explain', 'access-emulator']) {
      const { code, text } = await output(
        join(work, BACKENDS[0].name, 'node_modules/.bin', bin),
        ['--help'],
        work,
      );
      assert.equal(code, 0, text);
      assert.match(text, new RegExp(`^Usage: ${bin} `));
    }
  });

  for (const name of REACT_PROJECTS) {
    it(`type-checks and bundles the sign-in library in ${name}`, async () => {
      const project = join(work, name);
      const checked = await output(process.execPath, [TSC, '-p', '.'], project);
      assert.equal(checked.code, 0, checked.text);
      // Its ESM is for bundlers (Material UI 4 has directory imports), as in an app build.
      const bundled = await output(
        ESBUILD,
        [
          'src/App.tsx',
          '--bundle',
          '--format=esm',
          '--jsx=automatic',
          '--outdir=bundle',
          '--loader:.svg=file',
          '--loader:.png=file',
          '--log-level=warning',
        ],
        project,
      );
      assert.equal(bundled.code, 0, bundled.text);
    });
  }

  for (const { name, providers } of BACKENDS) {
    describe(name, () => {
      let backend: ChildProcess;
      let url: string;

      before(
        async () => {
          const port = await freePort();
          url = `http://localhost:${port}`;
          const log = openSync(join(work, `${name}.log`), 'a');
          backend = spawn(
            process.execPath,
            ['dist/index.js', '--config', '../app-config.yaml'],
            {
              cwd: join(work, name),
              stdio: ['ignore', log, log],
              env: {
                ...process.env,
                BACKEND_PORT: String(port),
                ACCESS_TEAM_DOMAIN: emulator.url,
                CATALOG_FILE,
              },
            },
          );
          // Up once the catalog has read the Users: the service token's subject signs in
          // (a person of example.com would be provisioned before that).
          const deadline = Date.now() + START_TIMEOUT_MS;
          for (;;) {
            const token = await emulator.mintServiceToken(SERVICE_TOKEN_ID);
            assert.equal(
              backend.exitCode,
              null,
              `${name} exited; see ${work}/${name}.log`,
            );
            const status = await refresh(url, 'cfaccess', token, 'POST').then(
              r => r.body?.cancel().then(() => r.status),
              () => 0,
            );
            if (status === 200) {
              break;
            }
            assert.ok(
              Date.now() < deadline,
              `${name} did not sign in (${status}); see ${work}/${name}.log`,
            );
            await new Promise(done => setTimeout(done, 500));
          }
        },
        { timeout: START_TIMEOUT_MS + 10_000 },
      );

      after(() => backend && stop(backend));

      it('installed these Backstage versions, the ones its fixture asks for', t => {
        const fixture = require(join(work, name, 'package.json'));
        for (const pkg of BACKSTAGE_PACKAGES) {
          const manifest = require(join(
            work,
            name,
            'node_modules',
            pkg,
            'package.json',
          ));
          t.diagnostic(`${pkg} ${manifest.version}`);
          const wanted = fixture.dependencies?.[pkg];
          if (wanted) {
            assert.ok(
              semver.satisfies(manifest.version, wanted),
              `${pkg} ${manifest.version} is not the ${wanted} ${name} asks for`,
            );
          }
        }
      });

      for (const provider of providers) {
        it(`signs a person in through ${provider}`, async () => {
          const { token } = await emulator.signIn('grace@example.com');
          const response = await refresh(url, provider, token);
          assert.equal(await userEntityRef(response), 'user:default/grace');
        });
      }

      it('signs a service token in as its subject', async () => {
        const token = await emulator.mintServiceToken(SERVICE_TOKEN_ID);
        const response = await refresh(url, 'cfaccess', token, 'POST');
        assert.equal(await userEntityRef(response), 'user:default/ci-bot');
      });

      it('provisions a new person: signed in at once, then a User in the catalog', async () => {
        const email = `newcomer.${name}@example.com`;
        const expected = `user:default/newcomer.${name}_example.com`;
        const { token } = await emulator.signIn(email);
        const response = await refresh(url, 'cfaccess', token);
        const body = await response.text();
        assert.equal(response.status, 200, body);
        const { identity, token: backstageToken } =
          JSON.parse(body).backstageIdentity;
        assert.equal(identity.userEntityRef, expected);
        const entityUrl = `${url}/api/catalog/entities/by-name/user/default/newcomer.${name}_example.com`;
        const deadline = Date.now() + 30_000;
        for (;;) {
          const entity = await fetch(entityUrl, {
            headers: { authorization: `Bearer ${backstageToken}` },
          });
          if (entity.status === 200) {
            const user = await entity.json();
            assert.equal(user.spec.profile.email, email);
            break;
          }
          await entity.body?.cancel();
          assert.ok(
            Date.now() < deadline,
            `${name}: no User ${expected} in the catalog after 30 s (${entity.status}); see ${work}/${name}.log`,
          );
          await new Promise(done => setTimeout(done, 500));
        }
      });

      it('refuses a request with no token with a 401', async () => {
        const response = await fetch(`${url}/api/auth/cfaccess/refresh`, {
          headers: { 'x-requested-with': 'XMLHttpRequest' },
        });
        await response.body?.cancel();
        assert.equal(response.status, 401);
      });
    });
  }
});
