import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type AccessEmulator,
  startAccessEmulator,
} from '@cfaccess/access-emulator';
import type { Browser, Page } from 'playwright-core';
import {
  startRedis,
  type TestRedis,
} from '../plugins/auth-backend-module-cloudflare-access-provider/src/__testUtils__/redis';
import { type LocalPorts, localUrls } from '../scripts/localStack';
import { waitForCatalogUser } from './support/access';
import { launchBrowser, newPage, saveScreenshot } from './support/browser';
import { REPO_ROOT } from './support/paths';
import { freePorts } from './support/ports';
import { isPostgresUp, POSTGRES, restartPostgres } from './support/postgres';
import {
  backendServer,
  type LocalStack,
  localServer,
  startServers,
} from './support/stack';

/**
 * The ports of two replicas of the sample backend, as a Tunnel would balance
 * over them: the emulator's and the app's are shared, each replica has its own
 * for itself and for its metrics.
 */
async function replicaPorts(): Promise<LocalPorts[]> {
  const [access, app, ...own] = await freePorts(6);
  return [0, 1].map(index => ({
    access,
    app,
    backend: own[2 * index],
    metrics: own[2 * index + 1],
  }));
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

// CI starts PostgreSQL (e2e/support/start-postgres.sh); a laptop without it skips this file, saying why.
const skip =
  !process.env.CI && !isPostgresUp()
    ? 'no PostgreSQL on 127.0.0.1:5432: run e2e/support/start-postgres.sh as root'
    : false;

/** Writes the replicas' config: the shared PostgreSQL and Redis. */
function replicaConfig(dir: string, redisUrl: string, prefix: string) {
  const file = join(dir, 'replica.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      backend: {
        database: { client: 'pg', connection: POSTGRES, prefix },
        cache: { store: 'redis', connection: redisUrl },
      },
    }),
  );
  return file;
}

async function refreshAt(base: string, accessToken: string) {
  const response = await fetch(`${base}/api/auth/cfaccess/refresh`, {
    headers: { 'cf-access-jwt-assertion': accessToken },
  });
  const body = (await response.json().catch(() => ({}))) as any;
  return { status: response.status, body };
}

async function catalogUsersAt(base: string, backstageToken: string) {
  const response = await fetch(
    `${base}/api/catalog/entities?filter=kind=user`,
    {
      headers: { authorization: `Bearer ${backstageToken}` },
    },
  );
  await response.body?.cancel();
  return response.status;
}

/** Polls until `check` passes, for at most `seconds`; returns whether it did. */
async function eventually(seconds: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) {
      return true;
    }
    await sleep(1000);
  }
  return false;
}

describe(
  'two replicas on one PostgreSQL and one Redis, behind a round robin',
  { skip },
  () => {
    let redis: TestRedis;
    let emulator: AccessEmulator;
    const stacks: LocalStack[] = [];
    let browser: Browser | undefined;
    let page: Page;
    /** Where each replica answers, past the emulator. */
    let replicas: string[];

    before(async () => {
      const ports = await replicaPorts();
      replicas = ports.map(replica => localUrls(replica).backend);
      const { access, app } = localUrls(ports[0]);
      redis = await startRedis();
      emulator = await startAccessEmulator({
        host: 'localhost',
        port: ports[0].access,
        audience: 'local-backstage-aud',
        catalog: [join(REPO_ROOT, 'examples')],
        upstream: app,
        routes: { '/api/': replicas },
      });
      const dir = mkdtempSync(join(tmpdir(), 'cfaccess-deployment-'));
      // A fresh set of databases per run, apart from any other run at the same time: the plugins' databases get this prefix.
      const prefix = `e2e_${process.pid}_${Date.now()}_`;
      const config = replicaConfig(dir, redis.url, prefix);
      const replica = (index: number) =>
        backendServer(`replica-${index + 1}`, ports[index], [config]);
      // One replica after the other, as a rollout does: the catalog refuses to start while another migrates.
      stacks.push(
        await startServers('deployment', [
          replica(0),
          localServer('app', ports[0]),
        ]),
      );
      stacks.push(await startServers('deployment', [replica(1)]));
      await waitForCatalogUser(access, 'ada@example.com');
      browser = await launchBrowser();
      page = await newPage(browser, access);
    });

    after(async () => {
      await browser?.close();
      await Promise.all(stacks.map(stack => stack.stop()));
      await emulator?.close();
      await redis?.stop();
    });

    test('a browser signs in and its pages load from both replicas', async () => {
      const before = emulator.upstreamRequestCounts();
      await page.goto('/whoami');
      await page.locator('button[data-email="ada@example.com"]').click();
      await page
        .getByTestId('profile-name')
        .getByText('Ada Lovelace', { exact: true })
        .waitFor();
      // Each page load refreshes the session and reads the catalog, through the round robin.
      for (let load = 0; load < 3; load++) {
        await page.goto('/whoami');
        await page
          .getByTestId('ownership-entity-refs')
          .getByText('group:default/platform')
          .waitFor();
      }
      await saveScreenshot(page, 'deployment-signed-in');
      const after = emulator.upstreamRequestCounts();
      for (const replica of replicas) {
        assert.ok(
          (after[replica] ?? 0) > (before[replica] ?? 0),
          `${replica} served none of the browser's API calls`,
        );
      }
    });

    test("a Backstage token one replica issues is accepted by the other's catalog", async () => {
      const { token } = await emulator.signIn('grace@example.com');
      for (const [issuer, reader] of [replicas, [...replicas].reverse()]) {
        const signedIn = await refreshAt(issuer, token);
        assert.equal(signedIn.status, 200);
        assert.equal(
          await catalogUsersAt(reader, signedIn.body.backstageIdentity.token),
          200,
        );
      }
    });

    test('a new person signed in at one replica is a User in the catalog of both', async () => {
      const email = 'newcomer@example.com';
      const provisioned = 'user:default/newcomer_example.com';
      const first = await refreshAt(
        replicas[0],
        (
          await emulator.signIn(email)
        ).token,
      );
      assert.equal(first.status, 200);
      assert.equal(
        first.body.backstageIdentity.identity.userEntityRef,
        provisioned,
      );
      const backstageToken = first.body.backstageIdentity.token;
      for (const replica of replicas) {
        assert.ok(
          await eventually(15, async () => {
            const response = await fetch(
              `${replica}/api/catalog/entities/by-name/user/default/newcomer_example.com`,
              { headers: { authorization: `Bearer ${backstageToken}` } },
            );
            await response.body?.cancel();
            return response.status === 200;
          }),
          `${replica}: no ${provisioned} in the catalog within 15 s`,
        );
      }
      // The other replica finds them in the catalog now, as the same User.
      const second = await refreshAt(
        replicas[1],
        (
          await emulator.signIn(email)
        ).token,
      );
      assert.equal(
        second.body.backstageIdentity.identity.userEntityRef,
        provisioned,
      );
    });

    test('one Access session costs one get-identity call across both replicas', async () => {
      const { token } = await emulator.signIn('linus@example.com');
      emulator.resetCounts();
      for (const replica of replicas) {
        assert.equal((await refreshAt(replica, token)).status, 200);
      }
      assert.equal(emulator.requestCount('identity'), 1);
    });

    test('the browser keeps working while Redis is down, and sharing resumes once it is back', async t => {
      await redis.stop();
      await page.goto('/whoami');
      await page
        .getByTestId('profile-name')
        .getByText('Ada Lovelace', { exact: true })
        .waitFor();
      const signInTimes: number[] = [];
      for (const email of ['grace@example.com', 'linus@example.com']) {
        const { token } = await emulator.signIn(email);
        for (const replica of replicas) {
          const started = Date.now();
          assert.equal((await refreshAt(replica, token)).status, 200);
          signInTimes.push(Date.now() - started);
        }
      }
      // Figures for the reader, not assertions: speed is the bench's business.
      t.diagnostic(
        `sign-ins during the outage took ${signInTimes.join(', ')} ms`,
      );

      await redis.start();
      const restarted = Date.now();
      const shared = await eventually(30, async () => {
        const fresh = await emulator.signIn('ada@example.com');
        await refreshAt(replicas[0], fresh.token);
        emulator.resetCounts();
        await refreshAt(replicas[1], fresh.token);
        return emulator.requestCount('identity') === 0;
      });
      assert.ok(
        shared,
        'the replicas did not share session state again within 30s of Redis coming back',
      );
      t.diagnostic(
        `sharing resumed ${((Date.now() - restarted) / 1000).toFixed(
          1,
        )} s after Redis was back`,
      );
    });

    test('both replicas recover by themselves when PostgreSQL restarts', async () => {
      restartPostgres();
      const recovered = await eventually(60, async () => {
        const { token } = await emulator.signIn('grace@example.com');
        for (const replica of replicas) {
          const signedIn = await refreshAt(replica, token);
          if (
            signedIn.status !== 200 ||
            (await catalogUsersAt(
              replica,
              signedIn.body.backstageIdentity.token,
            )) !== 200
          ) {
            return false;
          }
        }
        return true;
      });
      assert.ok(
        recovered,
        'a replica did not sign in and serve the catalog within 60s of the restart',
      );
      await page.goto('/whoami');
      await page
        .getByTestId('profile-name')
        .getByText('Ada Lovelace', { exact: true })
        .waitFor();
    });

    test('signing out ends the session on both replicas', async () => {
      const accessToken = (await page.context().cookies()).find(
        cookie => cookie.name === 'CF_Authorization',
      )?.value;
      assert.ok(accessToken);
      await page.goto('/whoami');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByTestId('signed-out').waitFor();
      const ended = await eventually(15, async () => {
        const answers = await Promise.all(
          replicas.map(replica => refreshAt(replica, accessToken)),
        );
        return answers.every(
          answer =>
            answer.status === 401 &&
            answer.body.error?.reason === 'session_ended',
        );
      });
      assert.ok(
        ended,
        'a replica still signed the old token in after the Access logout',
      );
    });
  },
);
