/** The cookie Access sets on the application's domain. */
export const AUTHORIZATION_COOKIE = 'CF_Authorization';

/** Reads one cookie's value from a Cookie header. */
export function readCookie(
  header: string | undefined,
  name: string,
): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) {
      return pair.slice(separator + 1).trim();
    }
  }
  return undefined;
}

/** The Cookie header with one cookie's value replaced, so the upstream sees the token it is given. */
export function replaceCookie(
  header: string,
  name: string,
  value: string,
): string {
  return header
    .split(';')
    .map(pair =>
      pair.split('=')[0].trim() === name ? ` ${name}=${value}` : pair,
    )
    .join(';')
    .trim();
}

export function authorizationCookie(
  token: string,
  maxAgeSeconds: number,
): string {
  return `${AUTHORIZATION_COOKIE}=${token}; Path=/; Max-Age=${Math.max(
    0,
    maxAgeSeconds,
  )}; HttpOnly; SameSite=Lax`;
}

export function clearedAuthorizationCookie(): string {
  return `${AUTHORIZATION_COOKIE}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax`;
}
