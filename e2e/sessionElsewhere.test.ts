import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { waitForCatalogUser } from './support/access';
import { launchBrowser, newPage, saveScreenshot } from './support/browser';
import { startLocalStack, type StartedLocalStack } from './support/stack';

/** What a page shows when it loaded Access's login page where it expected code or JSON. */
const LOAD_ERRORS = /ChunkLoadError|Unexpected token|Loading chunk .* failed/;
const SESSION_ENDED = 'Your Cloudflare Access session has ended';
/** Sooner than any scheduled check (tokens live an hour here): only a page event can have caused it. */
const NOTICED_WITHIN_MS = 10_000;
/** The library makes one check of a burst of page events this far apart; a person coming back takes longer. */
const RECHECK_AFTER_MS = 2_000;

async function signInAsAda(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.locator('button[data-email="ada@example.com"]').click();
  await page.waitForURL(path);
}

/** Ends the Access session from another tab of the same browser, which is then closed. */
async function signOutInAnotherTab(page: Page): Promise<void> {
  const otherTab = await page.context().newPage();
  await otherTab.goto('/cdn-cgi/access/logout');
  await otherTab.getByTestId('signed-out').waitFor();
  await otherTab.close();
  await page.waitForTimeout(RECHECK_AFTER_MS);
}

/** The text of the page and of every frame in it (the dev server's error overlay is an iframe). */
async function allText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page
      .frames()
      .map(frame =>
        frame.evaluate(() => document.body?.innerText ?? '').catch(() => ''),
      ),
  );
  return texts.join('\n');
}

async function assertNoLoadErrors(page: Page): Promise<void> {
  assert.doesNotMatch(await allText(page), LOAD_ERRORS);
}

describe('an Access session ended elsewhere, noticed wherever the app shows', () => {
  let stack: StartedLocalStack | undefined;
  let browser: Browser | undefined;

  before(async () => {
    stack = await startLocalStack({
      label: 'session-elsewhere',
      servers: ['access', 'backend', 'app'],
    });
    await waitForCatalogUser(stack.urls.access, 'ada@example.com');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('Back after signing out shows that the session has ended, not a load error', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await signInAsAda(page, '/whoami');
    await page
      .getByTestId('profile-name')
      .getByText('Ada Lovelace', { exact: true })
      .waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('signed-out').waitFor();
    await page.goBack();

    // A page restored from the back/forward cache checks at once and shows the panel; a page loaded
    // again (its HTML is no-store) gets Access's login page. Never the app failing to load its code.
    const panel = page.getByRole('dialog').getByText(SESSION_ENDED);
    const loginPage = page.locator('button[data-email="ada@example.com"]');
    await panel.or(loginPage).waitFor({ timeout: NOTICED_WITHIN_MS });
    await page.waitForTimeout(1000);
    await assertNoLoadErrors(page);
    await saveScreenshot(page, 'session-elsewhere-back');
    console.log(
      `Back after signing out: ${
        (await panel.count()) ? 'the session-ended panel' : 'the Access login'
      } at ${page.url()}`,
    );
  });

  test('a tab left open while another signs out of the app shows the panel at once, not an error', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await signInAsAda(page, '/');
    const entity = page.getByRole('link', { name: 'backstage', exact: true });
    await entity.waitFor();

    const firstTab = await page.context().newPage();
    await firstTab.goto('/whoami');
    await firstTab.getByRole('button', { name: 'Sign out' }).click();
    await firstTab.getByTestId('signed-out').waitFor();

    await page
      .getByRole('dialog')
      .getByText(SESSION_ENDED)
      .waitFor({ timeout: NOTICED_WITHIN_MS });
    // The dialog covers the app: the entity cannot be opened into an error.
    await assert.rejects(entity.click({ timeout: 2000 }));
    await assertNoLoadErrors(page);
    await saveScreenshot(page, 'session-elsewhere-open-tab');
    await firstTab.close();
  });

  test('a tab left open while Access ends the session elsewhere shows the panel on its next move', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await signInAsAda(page, '/');
    const entity = page.getByRole('link', { name: 'backstage', exact: true });
    await entity.waitFor();

    // Access's own logout, not the app's: no tab of the app hears of it.
    await signOutInAnotherTab(page);
    // The next move is opening the entity; coming back to this tab from the other one is a move too
    // (the tab becomes visible again), so the panel may already cover the link. Either way it shows.
    const clicked = entity
      .click({ timeout: NOTICED_WITHIN_MS })
      .catch(() => 'covered by the panel');

    const dialog = page.getByRole('dialog');
    await dialog
      .getByText(SESSION_ENDED)
      .waitFor({ timeout: NOTICED_WITHIN_MS });
    console.log(
      `next move after an Access logout elsewhere: ${
        (await clicked) ?? 'the entity opened'
      }, then the panel`,
    );
    assert.equal(
      await dialog.getByRole('button', { name: 'Sign in again' }).count(),
      1,
    );
    await saveScreenshot(page, 'session-elsewhere-next-move');
  });

  test('a hidden tab shows the panel as soon as it becomes visible', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await signInAsAda(page, '/whoami');
    await page
      .getByTestId('profile-name')
      .getByText('Ada Lovelace', { exact: true })
      .waitFor();
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate(value => {
        Object.defineProperty(document, 'visibilityState', {
          value,
          configurable: true,
        });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);

    await setVisibility('hidden');
    await signOutInAnotherTab(page);
    assert.equal(await page.getByRole('dialog').count(), 0);
    await setVisibility('visible');

    await page
      .getByRole('dialog')
      .getByText(SESSION_ENDED)
      .waitFor({ timeout: NOTICED_WITHIN_MS });
    await assertNoLoadErrors(page);
    await saveScreenshot(page, 'session-elsewhere-visible-again');
  });
});
