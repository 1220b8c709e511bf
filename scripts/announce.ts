import { LOCAL_STACK, LOCAL_URL, waitUntilUp } from './localStack';

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
}

announce();
