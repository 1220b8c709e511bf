import { LOCAL_URL } from '../../scripts/localStack';

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
