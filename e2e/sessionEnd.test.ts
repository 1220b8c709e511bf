import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { waitForCatalogUser } from './support/access';
import { launchBrowser, newPage, saveScreenshot } from './support/browser';
import { startLocalStack, type StartedLocalStack } from './support/stack';

describe('an Access session that ends while Backstage is open', () => {
  let stack: StartedLocalStack | undefined;
  let browser: Browser | undefined;

  before(async () => {
    stack = await startLocalStack({
      label: 'session-end',
      servers: ['access', 'backend', 'app'],
      // Sessions of 20 seconds whose tokens Access renews every 10.
      accessArgs: ['--session-duration', '20', '--token-lifetime', '10'],
    });
    await waitForCatalogUser(stack.urls.access, 'ada@example.com');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('the app asks to sign in again, and signing in again goes to the Access login', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await page.goto('/whoami');
    await page.locator('button[data-email="ada@example.com"]').click();
    await page
      .getByTestId('profile-name')
      .getByText('Ada Lovelace', { exact: true })
      .waitFor();
    assert.equal(await page.getByRole('dialog').count(), 0);

    // Nothing is clicked: the app notices on its own once Access ends the session.
    const dialog = page.getByRole('dialog');
    await dialog
      .getByText('Your Cloudflare Access session has ended')
      .waitFor({ timeout: 90_000 });
    await saveScreenshot(page, 'session-ended');

    await dialog.getByRole('button', { name: 'Sign in again' }).click();
    await page.waitForURL(/\/cdn-cgi\/access\/login\?redirect_url=%2Fwhoami$/);
    await page.locator('button[data-email="ada@example.com"]').waitFor();
    await saveScreenshot(page, 'session-ended-login');
  });
});
