import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The ports of the local stack's three servers and of the backend's metrics. */
export interface LocalPorts {
  access: number;
  backend: number;
  app: number;
  metrics: number;
}

/**
 * The ports of `npm start`: app-config.yaml's, the start:access script's, and
 * the metrics exporter's default (packages/backend/src/instrumentation.js).
 * The e2e suites pick free ones instead, so that two runs can share a machine.
 */
export const NPM_START_PORTS: LocalPorts = {
  access: 7000,
  backend: 7007,
  app: 3000,
  metrics: 9464,
};

/** Where each part of the local stack answers on the given ports. */
export function localUrls(ports: LocalPorts = NPM_START_PORTS) {
  const at = (port: number) => `http://localhost:${port}`;
  return {
    /** The one URL people open: the Access emulator, in front of the app and the backend, and the team domain. */
    access: at(ports.access),
    /** Where the sample backend listens; people reach it through the emulator, the self-checks directly. */
    backend: at(ports.backend),
    /** The app's dev server, behind the emulator. */
    app: at(ports.app),
    /** Where the sample backend serves its metrics to Prometheus. */
    metrics: `${at(ports.metrics)}/metrics`,
  };
}

export type LocalUrls = ReturnType<typeof localUrls>;

/**
 * The local stack `npm start` runs (root package.json scripts), and the URL
 * that answers once each server is up.
 */
export function localStack(ports: LocalPorts = NPM_START_PORTS) {
  const urls = localUrls(ports);
  return {
    access: {
      script: 'start:access',
      readyUrl: `${urls.access}/cdn-cgi/access/certs`,
    },
    backend: {
      script: 'start:backend',
      readyUrl: `${urls.backend}/.backstage/health/v1/readiness`,
    },
    app: {
      script: 'start:app',
      readyUrl: `${urls.app}/`,
    },
  } as const;
}

export type LocalServerName = keyof ReturnType<typeof localStack>;

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

/** The self-check's read-only catalog token (backend.auth.externalAccess in app-config.yaml). */
const SELF_CHECK_TOKEN = 'local-start-self-check-catalog-read';

/** The Users of examples/org.yaml, which the catalog must have before anyone signs in. */
export const EXAMPLE_USERS: string[] = parseAllDocuments(
  readFileSync(resolve(__dirname, '../examples/org.yaml'), 'utf8'),
)
  .map(document => document.toJS())
  .filter(entity => entity?.kind === 'User')
  .map(user => `user:default/${user.metadata.name}`);

/** How many of the example Users the backend's catalog has; 0 when it does not answer. */
export async function exampleUsersInCatalog(
  backendUrl: string,
): Promise<number> {
  try {
    const response = await fetch(`${backendUrl}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SELF_CHECK_TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ entityRefs: EXAMPLE_USERS, fields: ['kind'] }),
      signal: AbortSignal.timeout(5000),
    });
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
export async function waitForExampleUsers(
  backendUrl: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await exampleUsersInCatalog(backendUrl)) < EXAMPLE_USERS.length) {
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  return true;
}
