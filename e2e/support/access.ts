import { LOCAL_STACK, LOCAL_URL } from '../../scripts/localStack';

/** The service token app-config.yaml accepts (subject ci-bot@example.com) and `npm start` passes to the emulator. */
export const SERVICE_TOKEN = {
  'CF-Access-Client-Id': 'demo-client.access',
  'CF-Access-Client-Secret': 'demo-secret',
};

export const REFRESH_URL = `${LOCAL_URL}/api/auth/cfaccess/refresh`;

/** Signs in on the emulator's login form, as a script would, and returns the Access cookie. */
export async function accessCookie(email: string): Promise<string> {
  const response = await fetch(`${LOCAL_URL}/cdn-cgi/access/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, redirect_url: '/' }),
    redirect: 'manual',
  });
  const cookie = response.headers
    .getSetCookie()
    .find(c => c.startsWith('CF_Authorization='));
  if (!cookie) {
    throw new Error(`The emulator set no CF_Authorization cookie for ${email}`);
  }
  return cookie.split(';')[0];
}

/** Resolves once the backend signs the person in, i.e. the catalog has read their User entity. */
export async function waitForCatalogUser(email: string): Promise<void> {
  const cookie = await accessCookie(email);
  for (;;) {
    const response = await fetch(REFRESH_URL, { headers: { cookie } });
    await response.body?.cancel();
    if (response.ok) {
      return;
    }
    // 403 until the catalog has processed examples/org.yaml.
    if (response.status !== 403) {
      throw new Error(`Refresh for ${email} answered ${response.status}`);
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

/** Sends an Access token straight to the backend, past the emulator, as someone replaying a copied token would. */
export async function replayToBackend(
  token: string,
): Promise<{ status: number; reason?: string }> {
  const backend = new URL(LOCAL_STACK.backend.readyUrl).origin;
  const response = await fetch(`${backend}/api/auth/cfaccess/refresh`, {
    headers: { 'cf-access-jwt-assertion': token },
  });
  const body = (await response.json().catch(() => ({}))) as {
    error?: { reason?: string };
  };
  return { status: response.status, reason: body.error?.reason };
}

/** Replays a token until the backend refuses it, for at most 15 seconds (app-config.yaml's sessionCheckInterval is 2s). */
export async function replayUntilRefused(
  token: string,
): Promise<{ status: number; reason?: string }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await replayToBackend(token);
    if (answer.status !== 200 || Date.now() > deadline) {
      return answer;
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}
