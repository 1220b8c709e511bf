import {
  LOCAL_METRICS_URL,
  LOCAL_STACK,
  LOCAL_URL,
  waitUntilUp,
} from './localStack';

// The demo service token from the start:access script and app-config.yaml.
const DEMO_SERVICE_TOKEN = {
  'CF-Access-Client-Id': 'demo-client.access',
  'CF-Access-Client-Secret': 'demo-secret',
};

/** True once a sign-in through the emulator resolves a catalog user, i.e. the catalog has ingested examples/. */
async function catalogSignsIn(): Promise<boolean> {
  try {
    const response = await fetch(`${LOCAL_URL}/api/auth/cfaccess/refresh`, {
      headers: DEMO_SERVICE_TOKEN,
      signal: AbortSignal.timeout(5000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

// Part of `npm start`: says which URL to open, once every server answers and
// the catalog knows the example people (else the first sign-in is refused).
async function announce() {
  await Promise.all(
    Object.values(LOCAL_STACK).map(server => waitUntilUp(server.readyUrl)),
  );
  for (let attempt = 0; attempt < 120 && !(await catalogSignsIn()); attempt++) {
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  console.log(
    `Ready: open ${LOCAL_URL} and pick a person on the Access login page (Ctrl-C stops everything)`,
  );
  console.log(
    `Metrics for Prometheus: ${LOCAL_METRICS_URL} (docs/observability.md)`,
  );
  // The app's dev server warns of a "Conflict between app baseUrl and backend baseUrl" whenever they are equal.
  console.log(
    `The app's "Conflict between app baseUrl and backend baseUrl" warning is expected: behind Access, app and backend share one hostname (${LOCAL_URL}), and the emulator routes /api/ to the backend`,
  );
}

announce();
