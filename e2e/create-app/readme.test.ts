// From create-app to signed in, following only the README: an app laid out
// as @backstage/create-app 0.9.2 (Backstage 1.55) lays it out, with create-app's
// own yarn 4, gets the README's "Add it to your Backstage" applied as written
// (the snippets are read from README.md), our packages installed by name from
// their packed tarballs, then `yarn start`, the README's emulator command, a
// person signed in with Chromium, and the README's cfaccess-explain check.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPage, saveScreenshot } from '../support/browser';
import { PUBLISHED_PACKAGES, output, pack } from '../support/pack';
import { applyReadme, readmeSteps } from './readmeSteps';
import { startScopeRegistry, type ScopeRegistry } from './scopeRegistry';

const CREATE_APP = '@backstage/create-app@0.9.2';
const TEMPLATE = 'package/templates/default-app';
const YARN = '.yarn/releases/yarn-4.13.0.cjs';
/** Where the README says to open, and the ports its config and command use. */
const ACCESS_URL = 'http://localhost:7000';
const BACKEND_READY = 'http://localhost:7007/.backstage/health/v1/readiness';
const APP_URL = 'http://localhost:3000';
const SETUP_TIMEOUT_MS = 900_000;
const START_TIMEOUT_MS = 300_000;
const DAY_MS = 86_400_000;

const work = mkdtempSync(join(tmpdir(), 'cfaccess-create-app-'));
const app = join(work, 'app');
const bin = join(work, 'bin');

/** The environment of every command: create-app's yarn as `yarn`, this Node first. */
function environment(): NodeJS.ProcessEnv {
  const nodeDir = dirname(dirname(process.execPath));
  return {
    ...process.env,
    PATH: [bin, dirname(process.execPath), process.env.PATH].join(':'),
    // CI makes yarn refuse to write the lock file, which a new app must do.
    YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_PROGRESS_BARS: 'false',
    // better-sqlite3 compiles against this Node's headers (no download site).
    ...(existsSync(join(nodeDir, 'include/node/node.h')) &&
    !process.env.npm_config_nodedir
      ? { npm_config_nodedir: nodeDir }
      : {}),
  };
}

/** Runs a README command line in the app, as a shell would; its output goes to the log. */
async function sh(command: string, log: string) {
  const { code, text } = await output(
    'bash',
    ['-c', command],
    app,
    environment(),
  );
  appendFileSync(join(work, `${log}.log`), `$ ${command}\n${text}\n`);
  assert.equal(code, 0, `${command} exited ${code}; see ${work}/${log}.log`);
}

/** Starts a long-running README command in its own process group. */
function start(command: string, log: string): ChildProcess {
  const out = openSync(join(work, `${log}.log`), 'a');
  return spawn('bash', ['-c', command], {
    cwd: app,
    env: environment(),
    stdio: ['ignore', out, out],
    detached: true,
  });
}

async function stop(child: ChildProcess | undefined) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise(done => child.once('exit', done));
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function answers(url: string, deadline: number) {
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      r => r.body?.cancel().then(() => r.ok),
      () => false,
    );
    if (ok) {
      return;
    }
    await new Promise(done => setTimeout(done, 1000));
  }
  throw new Error(`${url} did not answer; see the logs in ${work}`);
}

describe('from create-app to signed in, following only the README', () => {
  const steps = readmeSteps();
  let registry: ScopeRegistry | undefined;
  let servers: ChildProcess | undefined;
  let emulator: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(
    async () => {
      const tarballs = join(work, 'tarballs');
      mkdirSync(tarballs);
      for (const { dir, tarball } of PUBLISHED_PACKAGES) {
        await pack(dir, tarballs, tarball);
      }
      // As once published, three days or more ago: create-app's yarn holds back younger versions.
      registry = await startScopeRegistry(
        PUBLISHED_PACKAGES.map(p => join(tarballs, p.tarball)),
        new Date(Date.now() - 4 * DAY_MS),
      );

      // The fixture, with create-app's yarn, yarn settings and empty lock file.
      cpSync(join(__dirname, 'fixture'), app, { recursive: true });
      execFileSync('npm', ['pack', CREATE_APP, '--pack-destination', work], {
        stdio: 'ignore',
      });
      const templateFiles = ['.yarnrc.yml.hbs', '.yarn', 'yarn.lock'];
      execFileSync('tar', [
        '-xzf',
        join(work, 'backstage-create-app-0.9.2.tgz'),
        '-C',
        work,
        ...templateFiles.map(file => `${TEMPLATE}/${file}`),
      ]);
      cpSync(join(work, TEMPLATE), app, { recursive: true });
      rmSync(join(app, '.yarnrc.yml.hbs'));
      // Every other package from the registry npm uses here (yarn's default is registry.yarnpkg.com).
      const npmRegistry = execFileSync('npm', ['config', 'get', 'registry'], {
        encoding: 'utf8',
      })
        .trim()
        .replace(/\/$/, '');
      writeFileSync(
        join(app, '.yarnrc.yml'),
        `${readFileSync(join(work, TEMPLATE, '.yarnrc.yml.hbs'), 'utf8')}
npmRegistryServer: "${npmRegistry}"
# The test's stand-in for the npm registry, for our scope only.
npmScopes:
  cfaccess:
    npmRegistryServer: ${registry.url}
unsafeHttpWhitelist:
  - 127.0.0.1
`,
      );
      mkdirSync(bin);
      writeFileSync(
        join(bin, 'yarn'),
        `#!/bin/sh\nexec "${process.execPath}" "${join(app, YARN)}" "$@"\n`,
      );
      chmodSync(join(bin, 'yarn'), 0o755);

      await sh('yarn install', 'install');
      // Step 1, the commands as the README gives them.
      for (const command of steps.install) {
        await sh(command, 'install');
      }
      // Steps 2 to 4.
      applyReadme(app, steps);
      // The README: the default resolver needs Users with an email; create-app's guest has none.
      appendFileSync(
        join(app, 'examples/org.yaml'),
        `---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ada
spec:
  profile:
    email: ada@example.com
  memberOf: [guests]
`,
      );

      // Step 5.
      servers = start('yarn start', 'yarn-start');
      emulator = start(steps.emulator, 'emulator');
      const deadline = Date.now() + START_TIMEOUT_MS;
      await answers(BACKEND_READY, deadline);
      await answers(APP_URL, deadline);
      await answers(`${ACCESS_URL}/cdn-cgi/access/certs`, deadline);

      browser = await launchBrowser();
      page = await newPage(browser, ACCESS_URL);
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  after(async () => {
    await browser?.close();
    await stop(emulator);
    await stop(servers);
    await registry?.close();
    // The install is large; the logs stay for a failure to point at.
    rmSync(join(app, 'node_modules'), { recursive: true, force: true });
  });

  it('installs each package in the workspace the README names', () => {
    const dependencies = (workspace: string) =>
      Object.keys(
        JSON.parse(readFileSync(join(app, workspace, 'package.json'), 'utf8'))[
          workspace === '.' ? 'devDependencies' : 'dependencies'
        ],
      ).filter(name => name.startsWith('@cfaccess/'));
    assert.deepEqual(dependencies('packages/backend').sort(), [
      '@cfaccess/plugin-auth-backend-module-cloudflare-access-provider',
      '@cfaccess/plugin-catalog-backend-module-cloudflare-access',
    ]);
    assert.deepEqual(dependencies('packages/app'), [
      '@cfaccess/cloudflare-access-react',
    ]);
    assert.deepEqual(dependencies('.'), ['@cfaccess/access-emulator']);
  });

  it('says on the login page which catalog Users it left out, and why', async () => {
    await page.goto(ACCESS_URL);
    await page.getByTestId('people').waitFor();
    assert.match(
      (await page.getByTestId('skipped-users').textContent()) ?? '',
      /^1 catalog User not listed: no spec\.profile\.email.*\(guest\)\.$/,
    );
    assert.match(
      readFileSync(join(work, 'emulator.log'), 'utf8'),
      /1 catalog User not listed: no spec\.profile\.email/,
    );
  });

  it('signs a person of the catalog in, with no second login', async () => {
    await page.goto(ACCESS_URL);
    await page.locator('button[data-email="ada@example.com"]').click();
    try {
      await page.getByText('My Company Catalog').waitFor();
    } catch (error) {
      // A sign-in panel (a CORS failure, a refusal) says what went wrong.
      const says = await page.locator('body').innerText();
      assert.fail(`Not signed in (${error}); the page says: ${says}`);
    } finally {
      await saveScreenshot(page, 'create-app-signed-in');
    }
    const identity = await page.evaluate(async () => {
      const response = await fetch('/api/auth/cfaccess/refresh', {
        headers: { 'x-requested-with': 'XMLHttpRequest' },
      });
      return (await response.json()).backstageIdentity.identity;
    });
    assert.equal(identity.userEntityRef, 'user:default/ada');
    assert.deepEqual(identity.ownershipEntityRefs.sort(), [
      'group:default/guests',
      'user:default/ada',
    ]);
  });

  it("checks the person's token with cfaccess-explain", async () => {
    const cookies = await page.context().cookies(ACCESS_URL);
    const token = cookies.find(c => c.name === 'CF_Authorization')?.value;
    assert.ok(token, 'the browser has no CF_Authorization cookie');
    const { code, text } = await output(
      'bash',
      ['-c', steps.explain.replace('<token>', token)],
      app,
      environment(),
    );
    assert.equal(code, 0, text);
    assert.match(text, /user:default\/ada/);
    assert.ok(!text.includes(token), 'cfaccess-explain printed the token');
  });
});
