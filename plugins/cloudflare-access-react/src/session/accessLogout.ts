/** The two ways the app goes through Access's logout: to leave, and to come back with a fresh session. */
import { ACCESS_LOGOUT_PATH } from '../constants';

/** Goes to Access's logout page, which ends the Access session and says so. */
export function signOutOfAccess(): void {
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
