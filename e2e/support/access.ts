import { provisionedUserEntityRef } from '@cfaccess/plugin-cloudflare-access-node';

/** The service token app-config.yaml accepts (subject ci-bot@example.com) and `npm start` passes to the emulator. */
export const SERVICE_TOKEN = {
  'CF-Access-Client-Id': 'demo-client.access',
  'CF-Access-Client-Secret': 'demo-secret',
};

/** The backend's refresh endpoint, where a sign-in happens: behind the emulator at the same path. */
export const REFRESH_PATH = '/api/auth/cfaccess/refresh';

/** Signs in on the login form of the emulator at `accessUrl`, as a script would, and returns the Access cookie. */
export async function accessCookie(
  accessUrl: string,
  email: string,
): Promise<string> {
  const response = await fetch(`${accessUrl}/cdn-cgi/access/login`, {
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

/** A new Access session of the person (the emulator's login form) and a refresh with it: the status, and who it signed in as. */
async function signInOnce(
  accessUrl: string,
  email: string,
): Promise<{ status: number; signedInAs?: string }> {
  const response = await fetch(`${accessUrl}${REFRESH_PATH}`, {
    headers: { cookie: await accessCookie(accessUrl, email) },
  });
  const body = (await response.json().catch(() => ({}))) as {
    backstageIdentity?: { identity?: { userEntityRef?: string } };
  };
  return {
    status: response.status,
    signedInAs: body.backstageIdentity?.identity?.userEntityRef,
  };
}

/**
 * Resolves once the backend signs the person in as their catalog User, i.e.
 * the catalog has read examples/org.yaml. Until then a person of example.com
 * is signed in as their provisioned User (app-config.yaml's provisionUsers),
 * so each attempt is a new Access session and checks who it signed in as.
 */
export async function waitForCatalogUser(
  accessUrl: string,
  email: string,
): Promise<void> {
  const provisioned = provisionedUserEntityRef(email);
  for (;;) {
    const { status, signedInAs } = await signInOnce(accessUrl, email);
    if (status === 200 && signedInAs !== provisioned) {
      return;
    }
    if (status !== 200 && status !== 403) {
      throw new Error(`Refresh for ${email} answered ${status}`);
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

/**
 * Signs the person in as early as the stack lets anyone, from before it
 * starts: polls the emulator's login form and the refresh through it until a
 * refresh succeeds, and returns who it signed in as. A person of
 * examples/org.yaml signed in as their provisioned User was a stranger to a
 * catalog that had not read them yet.
 */
export async function firstSignInAs(
  accessUrl: string,
  email: string,
  timeoutMs = 180_000,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const { status, signedInAs } = await signInOnce(accessUrl, email);
      if (status === 200) {
        return signedInAs;
      }
    } catch {
      // The emulator or the backend is not up yet.
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return undefined;
}

/** Sends an Access token straight to the backend at `backendUrl`, past the emulator, as someone replaying a copied token would. */
export async function replayToBackend(
  backendUrl: string,
  token: string,
): Promise<{ status: number; reason?: string }> {
  const response = await fetch(`${backendUrl}${REFRESH_PATH}`, {
    headers: { 'cf-access-jwt-assertion': token },
  });
  const body = (await response.json().catch(() => ({}))) as {
    error?: { reason?: string };
  };
  return { status: response.status, reason: body.error?.reason };
}

/** Replays a token until the backend refuses it, for at most 15 seconds (app-config.yaml's sessionCheckInterval is 2s). */
export async function replayUntilRefused(
  backendUrl: string,
  token: string,
): Promise<{ status: number; reason?: string }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await replayToBackend(backendUrl, token);
    if (answer.status !== 200 || Date.now() > deadline) {
      return answer;
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}
