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
