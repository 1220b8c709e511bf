import {
  EXAMPLE_USERS,
  exampleUsersInCatalog,
  localStack,
  localUrls,
  waitUntilUp,
} from './localStack';

// Where `npm start` runs its servers (the default ports).
const URLS = localUrls();

// The demo service token from the start:access script and app-config.yaml.
const DEMO_SERVICE_TOKEN = {
  'CF-Access-Client-Id': 'demo-client.access',
  'CF-Access-Client-Secret': 'demo-secret',
};

/** What a sign-in with the demo service token through the emulator answers: the User, or why not. */
async function demoSignIn(): Promise<string> {
  try {
    const response = await fetch(`${URLS.access}/api/auth/cfaccess/refresh`, {
      headers: DEMO_SERVICE_TOKEN,
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return `failed with HTTP ${response.status} (see the backend's log)`;
    }
    const body = (await response.json()) as {
      backstageIdentity?: { identity?: { userEntityRef?: string } };
    };
    return `signs in as ${body.backstageIdentity?.identity?.userEntityRef}`;
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
}

// Part of `npm start`: once every server answers (the emulator opens only
// after the catalog has the example Users, scripts/whenCatalogReady.ts), says
// what it checked and which URL to open.
async function announce() {
  await Promise.all(
    Object.values(localStack()).map(server => waitUntilUp(server.readyUrl)),
  );
  console.log(
    `Self-check: the catalog has ${await exampleUsersInCatalog(
      URLS.backend,
    )} of the ${
      EXAMPLE_USERS.length
    } example Users, and the demo service token ${await demoSignIn()}`,
  );
  console.log(
    `Ready: open ${URLS.access} and pick a person on the Access login page (Ctrl-C stops everything)`,
  );
  console.log(
    `Metrics for Prometheus: ${URLS.metrics} (docs/observability.md)`,
  );
  // The app's dev server warns of a "Conflict between app baseUrl and backend baseUrl" whenever they are equal.
  console.log(
    `The app's "Conflict between app baseUrl and backend baseUrl" warning is expected: behind Access, app and backend share one hostname (${URLS.access}), and the emulator routes /api/ to the backend`,
  );
}

announce();
