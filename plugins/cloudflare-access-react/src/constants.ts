/** The auth provider id the backend module registers. */
export const PROVIDER_ID = 'cfaccess';

/** Access intercepts this path on every protected hostname and ends the Access session. */
export const ACCESS_LOGOUT_PATH = '/cdn-cgi/access/logout';
