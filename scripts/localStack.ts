import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * The local stack `npm start` runs (root package.json scripts), and the URL
 * that answers once each server is up. The ports are the ones in
 * app-config.yaml.
 */
export const LOCAL_STACK = {
  access: {
    script: 'start:access',
    readyUrl: 'http://localhost:7000/cdn-cgi/access/certs',
  },
  backend: {
    script: 'start:backend',
    readyUrl: 'http://localhost:7007/.backstage/health/v1/readiness',
  },
  app: {
    script: 'start:app',
    readyUrl: 'http://localhost:3000/',
  },
} as const;

export type LocalServerName = keyof typeof LOCAL_STACK;

/** The one URL people open: the Access emulator, in front of the app and the backend. */
export const LOCAL_URL = 'http://localhost:7000';

/** Where the sample backend serves its metrics to Prometheus (packages/backend/src/instrumentation.js). */
export const LOCAL_METRICS_URL = 'http://localhost:9464/metrics';

/** True when something answers the URL successfully. */
export async function isUp(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Resolves once the URL answers successfully; polls until then. */
export async function waitUntilUp(
  url: string,
  signal?: AbortSignal,
): Promise<void> {
  while (!(await isUp(url))) {
    signal?.throwIfAborted();
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

/** Where the sample backend listens; people reach it through the emulator, the self-checks directly. */
export const LOCAL_BACKEND_URL = 'http://localhost:7007';

/** The self-check's read-only catalog token (backend.auth.externalAccess in app-config.yaml). */
const SELF_CHECK_TOKEN = 'local-start-self-check-catalog-read';

/** The Users of examples/org.yaml, which the catalog must have before anyone signs in. */
export const EXAMPLE_USERS: string[] = parseAllDocuments(
  readFileSync(resolve(__dirname, '../examples/org.yaml'), 'utf8'),
)
  .map(document => document.toJS())
  .filter(entity => entity?.kind === 'User')
  .map(user => `user:default/${user.metadata.name}`);

/** How many of the example Users the catalog has; 0 when it does not answer. */
export async function exampleUsersInCatalog(): Promise<number> {
  try {
    const response = await fetch(
      `${LOCAL_BACKEND_URL}/api/catalog/entities/by-refs`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${SELF_CHECK_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ entityRefs: EXAMPLE_USERS, fields: ['kind'] }),
        signal: AbortSignal.timeout(5000),
      },
    );
    if (!response.ok) {
      await response.body?.cancel();
      return 0;
    }
    const { items } = (await response.json()) as { items: unknown[] };
    return items.filter(Boolean).length;
  } catch {
    return 0;
  }
}

/**
 * Resolves once the catalog has every example User, or false after `timeoutMs`.
 * Until then nobody may sign in: a person whose User the catalog has not read
 * yet would be provisioned as a stranger.
 */
export async function waitForExampleUsers(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await exampleUsersInCatalog()) < EXAMPLE_USERS.length) {
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  return true;
}
