import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ARTIFACTS_DIR } from './paths';

/** Debian's Chromium; playwright-core downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No ${CHROMIUM}: install it with "apt-get install -y chromium"`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A page in a fresh context, so that each flow starts with no Access cookie.
 * Paths it goes to and waits for are on `baseURL`: the emulator, on this run's port.
 */
export async function newPage(
  browser: Browser,
  baseURL: string,
): Promise<Page> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  return page;
}

/** Saves e2e/artifacts/<name>.png and returns its path. */
export async function saveScreenshot(
  page: Page,
  name: string,
): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  // Dialogs fade in; a screenshot mid-transition shows half of them.
  await page.screenshot({ path, animations: 'disabled' });
  return path;
}
