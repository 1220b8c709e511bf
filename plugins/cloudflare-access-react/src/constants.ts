/** The auth provider id the backend module registers. */
export const PROVIDER_ID = 'cfaccess';

/** Access intercepts this path on every protected hostname and ends the Access session. */
export const ACCESS_LOGOUT_PATH = '/cdn-cgi/access/logout';

/** The BroadcastChannel on which a tab that signs out tells the app's other tabs of the same origin. */
export const SIGN_OUT_CHANNEL = 'cfaccess-sign-out';
