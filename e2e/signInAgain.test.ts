import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  type AccessEmulator,
  startAccessEmulator,
} from '@cfaccess/access-emulator';
import type { Browser, Page } from 'playwright-core';
import { type LocalUrls, localUrls } from '../scripts/localStack';
import { waitForCatalogUser } from './support/access';
import { launchBrowser, newPage, saveScreenshot } from './support/browser';
import { REPO_ROOT } from './support/paths';
import {
  backendServer,
  freeLocalPorts,
  type LocalStack,
  localServer,
  startServers,
} from './support/stack';

const LOGIN_PAGE = /\/cdn-cgi\/access\/login\?redirect_url=%2Fwhoami$/;

/** The backend's config for this file: a refusal that may not be Access's is asked again this soon. */
function backendConfig(): string {
  const file = join(
    mkdtempSync(join(tmpdir(), 'cfaccess-sign-in-again-')),
    'app-config.sign-in-again.yaml',
  );
  writeFileSync(
    file,
    JSON.stringify({
      auth: { providers: { cfaccess: { sessionCheckInterval: '5s' } } },
    }),
  );
  return file;
}

/** Ada picks herself on the Access login page and lands on the who-am-I page, signed in. */
async function signInAsAda(page: Page): Promise<void> {
  await page.locator('button[data-email="ada@example.com"]').click();
  await page
    .getByTestId('profile-name')
    .getByText('Ada Lovelace', { exact: true })
    .waitFor();
}

/** Clicks "Sign in again" and resolves once the page has asked Access to end the session. */
async function clickSignInAgain(page: Page): Promise<void> {
  const logout = page.waitForRequest(
    request => new URL(request.url()).pathname === '/cdn-cgi/access/logout',
  );
  await page.getByRole('button', { name: 'Sign in again' }).click();
  await logout;
}

describe('signing in again once Backstage has refused the Access session', () => {
  let emulator: AccessEmulator;
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  let urls: LocalUrls;

  before(async () => {
    const ports = await freeLocalPorts();
    urls = localUrls(ports);
    // The emulator in this process, so that a test can change what get-identity answers.
    emulator = await startAccessEmulator({
      host: 'localhost',
      port: ports.access,
      audience: 'local-backstage-aud',
      catalog: [join(REPO_ROOT, 'examples')],
      upstream: urls.app,
      routes: { '/api/': urls.backend },
      // Tokens that expire every 10 seconds: the open app checks the session as often.
      tokenLifetimeSeconds: 10,
    });
    stack = await startServers('sign-in-again', [
      backendServer('backend', ports, [backendConfig()]),
      localServer('app', ports),
    ]);
    await waitForCatalogUser(urls.access, 'ada@example.com');
    browser = await launchBrowser();
  });
  afterEach(() => emulator.setEndpointMode('identity', 'ok'));
  after(async () => {
    await browser?.close();
    await stack?.stop();
    await emulator?.close();
  });

  test('after an Access logout in another tab, Sign in again leads through the Access login back into the app', async () => {
    const page = await newPage(browser!, urls.access);
    await page.goto('/whoami');
    await signInAsAda(page);

    const otherTab = await page.context().newPage();
    await otherTab.goto('/cdn-cgi/access/logout');
    await otherTab.getByTestId('signed-out').waitFor();
    await otherTab.close();

    // Nothing is clicked: the open app notices at its next session check.
    const dialog = page.getByRole('dialog');
    await dialog
      .getByText('Your Cloudflare Access session has ended')
      .waitFor({ timeout: 90_000 });
    await saveScreenshot(page, 'sign-in-again-after-logout');

    await clickSignInAgain(page);
    await page.waitForURL(LOGIN_PAGE);
    await signInAsAda(page);
    assert.equal(await page.getByRole('dialog').count(), 0);
  });

  test('after a firewall answered 403 in front of get-identity, Sign in again gets a fresh session that signs in', async () => {
    emulator.setEndpointMode('identity', 'forbidden');
    const page = await newPage(browser!, urls.access);
    await page.goto('/whoami');
    await page.locator('button[data-email="ada@example.com"]').click();

    // The backend refuses the session (401 session_unconfirmed) while it cannot tell what the 403 meant,
    // and the panel does not claim that Access ended it.
    await page.getByText('Your Cloudflare Access session has ended').waitFor();
    await page
      .getByText(
        'Sign in again to carry on: Cloudflare Access will ask who you are.',
      )
      .waitFor();
    assert.equal(
      await page
        .getByText(
          'Cloudflare Access says your session was signed out or revoked',
          {
            exact: false,
          },
        )
        .count(),
      0,
    );
    await saveScreenshot(page, 'sign-in-again-after-forbidden');

    emulator.setEndpointMode('identity', 'ok');
    await clickSignInAgain(page);
    // The Access session is over, so Access asks again rather than sending back the refused token.
    await page.waitForURL(LOGIN_PAGE);
    await signInAsAda(page);
    assert.equal(
      await page.getByTestId('user-entity-ref').textContent(),
      'user:default/ada',
    );
  });
});
