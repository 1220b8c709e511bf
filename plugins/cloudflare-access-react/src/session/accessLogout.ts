/** The two ways the app goes through Access's logout: to leave, and to come back with a fresh session. */
import { ACCESS_LOGOUT_PATH, SIGN_OUT_CHANNEL } from '../constants';

/** Goes to Access's logout page, which ends the Access session and says so, and tells the app's other tabs. */
export function signOutOfAccess(): void {
  // The other tabs would otherwise find out only when their next load gets the login page.
  if (typeof BroadcastChannel === 'function') {
    const channel = new BroadcastChannel(SIGN_OUT_CHANNEL);
    channel.postMessage('signed-out');
    channel.close();
  }
  window.location.assign(ACCESS_LOGOUT_PATH);
}

/**
 * Ends the Access session, then reloads: Access asks who the person is and
 * issues a fresh token, instead of sending the refused one back.
 */
export async function signInAgainThroughAccess(): Promise<void> {
  try {
    // Access answers with a redirect to its own pages: not followed, so an opaque answer.
    await fetch(ACCESS_LOGOUT_PATH, {
      credentials: 'include',
      redirect: 'manual',
    });
  } catch {
    // Whatever went wrong, the reload still leads to Access, which knows best.
  }
  window.location.reload();
}
