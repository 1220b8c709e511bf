import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { localUrls } from '../scripts/localStack';
import { parseScrape, total } from '../scripts/prometheusText';
import {
  firstSignInAs,
  replayToBackend,
  replayUntilRefused,
  waitForCatalogUser,
} from './support/access';
import { launchBrowser, newPage, saveScreenshot } from './support/browser';
import { REPO_ROOT } from './support/paths';
import {
  freeLocalPorts,
  startLocalStack,
  type StartedLocalStack,
} from './support/stack';

/** How many lines an element's text takes on screen; runs in the page. */
function textLineCount(element: Element): number {
  const lineTops = new Set<number>();
  const texts = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let text = texts.nextNode(); text; text = texts.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    for (const rect of range.getClientRects()) {
      lineTops.add(Math.round(rect.top));
    }
  }
  return lineTops.size;
}

describe('signing in and out through Cloudflare Access', () => {
  let stack: StartedLocalStack | undefined;
  let browser: Browser | undefined;
  // Who Grace was first signed in as, by a sign-in tried from before the stack started.
  let graceFirstSignedInAs: string | undefined;

  before(async () => {
    const ports = await freeLocalPorts();
    const graceFirst = firstSignInAs(
      localUrls(ports).access,
      'grace@example.com',
    );
    stack = await startLocalStack({
      label: 'sign-in',
      servers: ['access', 'backend', 'app'],
      ports,
    });
    graceFirstSignedInAs = await graceFirst;
    await waitForCatalogUser(stack.urls.access, 'ada@example.com');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('a person of examples/org.yaml is their own User from the first sign-in the stack lets through', () => {
    // The emulator opens only once the catalog has the example Users (scripts/whenCatalogReady.ts).
    assert.equal(graceFirstSignedInAs, 'user:default/grace');
  });

  test('Ada signs in on the Access login page and sees who she is', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await page.goto('/whoami');
    await page.locator('button[data-email="ada@example.com"]').click();
    await page.waitForURL('/whoami');

    const ownership = page.getByTestId('ownership-entity-refs');
    await ownership.getByText('group:default/platform').waitFor();
    await page.getByTestId('access-groups').getByText('platform').waitFor();
    assert.equal(
      await page.getByTestId('profile-name').textContent(),
      'Ada Lovelace',
    );
    // Her User entity from examples/org.yaml, as the catalog has it.
    await page
      .getByTestId('catalog-member-of')
      .getByText('group:default/platform')
      .waitFor();
    assert.equal(
      await page.getByTestId('user-entity-ref').textContent(),
      'user:default/ada',
    );
    assert.deepEqual(await ownership.locator('li').allTextContents(), [
      'user:default/ada',
      'group:default/platform',
    ]);

    const screenshot = await saveScreenshot(page, 'signed-in');

    // /catalog, where Backstage users look for it, leads to the catalog at /.
    await page.goto('/catalog');
    await page.waitForURL('/');
    const firstEntity = page.getByRole('link', {
      name: 'backstage',
      exact: true,
    });
    await firstEntity.waitFor();
    // At newPage's 1280 px the catalog looks finished: the first entity's name
    // on one line (not "backs tage"), and no filter label cut ("Ownec").
    const filterLabels = page.getByTestId(/^user-picker-/).locator('p');
    await filterLabels.first().waitFor();
    assert.deepEqual(
      {
        nameLines: await firstEntity.evaluate(textLineCount),
        clippedLabels: await filterLabels.evaluateAll(labels =>
          labels
            .filter(label => label.scrollWidth > label.clientWidth)
            .map(label => label.textContent?.trim()),
        ),
      },
      { nameLines: 1, clippedLabels: [] },
    );
    await saveScreenshot(page, 'catalog');
    mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
    copyFileSync(screenshot, join(REPO_ROOT, 'docs/screenshot-signed-in.png'));
  });

  test('signing out ends the Access session and shows the Access signed-out page', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await page.goto('/whoami');
    await page.locator('button[data-email="grace@example.com"]').click();
    await page
      .getByTestId('profile-name')
      .getByText('Grace Hopper', { exact: true })
      .waitFor();
    const accessToken = (await page.context().cookies()).find(
      cookie => cookie.name === 'CF_Authorization',
    )?.value;
    assert.ok(accessToken, 'the emulator set a CF_Authorization cookie');
    assert.equal(
      (await replayToBackend(stack!.urls.backend, accessToken)).status,
      200,
    );

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('/cdn-cgi/access/logout');
    await page.getByTestId('signed-out').waitFor();
    await saveScreenshot(page, 'signed-out');

    // The Access session is over, not just the Backstage one: Access asks again.
    await page.goto('/whoami');
    assert.match(
      page.url(),
      /\/cdn-cgi\/access\/login\?redirect_url=%2Fwhoami$/,
    );

    // And the backend refuses the old token replayed straight to it, once it rechecks the session.
    const refused = await replayUntilRefused(stack!.urls.backend, accessToken);
    assert.equal(refused.status, 401);
    assert.equal(refused.reason, 'session_ended');
  });

  test('a new person of example.com signs in at once and gets a User entity with their groups', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await page.goto('/whoami');
    await page.fill('#email', 'newcomer@example.com');
    await page.fill('#groups', 'engineering, made-up-by-newcomer');
    await page.click('#sign-in');
    await page.waitForURL('/whoami');

    await page.getByTestId('user-entity-ref').waitFor();
    assert.equal(
      await page.getByTestId('user-entity-ref').textContent(),
      'user:default/newcomer_example.com',
    );
    // The mapped Group only: the group named by the newcomer maps to nothing.
    assert.deepEqual(
      await page
        .getByTestId('ownership-entity-refs')
        .locator('li')
        .allTextContents(),
      ['user:default/newcomer_example.com', 'group:default/engineering'],
    );

    // The Access card says which of the groups gave nothing.
    const accessGroups = page.getByTestId('access-groups');
    await accessGroups
      .locator('li', { hasText: 'made-up-by-newcomer' })
      .getByText('gives no ownership: not mapped in accessGroups')
      .waitFor();
    assert.equal(
      await accessGroups
        .locator('li', { hasText: 'engineering' })
        .getByTestId('access-group-unmapped')
        .count(),
      0,
    );

    // The catalog module ingests the User within seconds: check again until it is there.
    const user = page.getByTestId('catalog-user');
    for (let attempt = 0; attempt < 30 && !(await user.count()); attempt++) {
      const again = page.getByTestId('catalog-check-again');
      if (await again.count()) {
        await again.click();
      }
      await page.waitForTimeout(500);
    }
    await user.waitFor({ timeout: 1000 });
    assert.deepEqual(
      await page
        .getByTestId('catalog-member-of')
        .locator('li')
        .allTextContents(),
      ['group:default/engineering'],
    );
    assert.equal(await user.getByText('newcomer@example.com').count(), 1);
    await saveScreenshot(page, 'provisioned');
  });

  test('someone Access lets in from a domain that is not provisioned sees why', async () => {
    const page = await newPage(browser!, stack!.urls.access);
    await page.goto('/whoami');
    await page.fill('#email', 'nobody@elsewhere.example');
    await page.click('#sign-in');

    await page
      .getByText(
        'You are signed in to Cloudflare Access, but not allowed into Backstage',
      )
      .waitFor();
    // Words for the person: what to do, not which domains are allowed.
    const reason = page.getByText(
      'Accounts of your email domain may not sign in to Backstage',
      {
        exact: false,
      },
    );
    assert.equal(await reason.count(), 1);
    assert.equal(
      await page.getByText('example.com', { exact: false }).count(),
      0,
    );
    // The ways on, and the reason code for whoever they ask.
    await page
      .getByRole('button', { name: 'Sign in with another account' })
      .waitFor();
    assert.equal(
      await page.getByTestId('refusal-details').textContent(),
      'Details for your administrator: reason domain',
    );
    assert.equal(await page.getByTestId('ownership-entity-refs').count(), 0);
    await saveScreenshot(page, 'refused');
  });

  test('a Prometheus scrape after these sign-ins shows each one counted', async () => {
    const response = await fetch(stack!.urls.metrics);
    assert.equal(response.status, 200);
    const scrape = parseScrape(await response.text());
    const signIns = (labels: Record<string, string>) =>
      total(scrape, 'cfaccess_sign_ins_total', labels);
    // Ada's refreshes, the new person's, the refused domain, and the token replayed after sign-out.
    assert.ok(
      signIns({
        cfaccess_outcome: 'signed_in',
        cfaccess_principal: 'person',
      }) >= 1,
    );
    assert.ok(
      signIns({
        cfaccess_outcome: 'signed_in',
        cfaccess_principal: 'provisioned',
      }) >= 1,
    );
    assert.ok(
      signIns({ cfaccess_outcome: 'refused', cfaccess_reason: 'domain' }) >= 1,
    );
    assert.ok(
      signIns({
        cfaccess_outcome: 'refused',
        cfaccess_reason: 'session_ended',
      }) >= 1,
    );
    assert.equal(signIns({ cfaccess_outcome: 'degraded' }), 0);
    assert.ok(
      total(scrape, 'cfaccess_get_identity_calls_total', {
        cfaccess_outcome: 'ok',
      }) >= 3,
    );
    assert.ok(
      total(scrape, 'cfaccess_get_identity_calls_total', {
        cfaccess_outcome: 'ended',
      }) >= 1,
    );
    assert.equal(
      total(scrape, 'cfaccess_get_identity_calls_total', {
        cfaccess_outcome: 'error',
      }),
      0,
    );
    assert.ok(
      total(scrape, 'cfaccess_keys_fetches_total', {
        cfaccess_outcome: 'ok',
      }) >= 1,
    );
    assert.ok(total(scrape, 'cfaccess_provisioned_users_created_total') >= 1);
    assert.ok(total(scrape, 'cfaccess_provisioned_users') >= 1);
    assert.equal(
      total(scrape, 'cfaccess_cache_reads_total', {
        cfaccess_cache_result: 'rejected',
      }),
      0,
    );
    const names = [...scrape.keys()]
      .map(series => series.split('{')[0])
      .filter(name => name.startsWith('cfaccess_'));
    console.log(
      `cfaccess metrics in the scrape: ${[...new Set(names)].join(', ')}`,
    );
  });
});
