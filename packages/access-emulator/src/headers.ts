import type { IncomingHttpHeaders } from 'node:http';
import { AUTHORIZATION_COOKIE, replaceCookie } from './cookies';
import type { Admission } from './edge';

/**
 * Rewrites request headers as Access forwards them: every incoming `cf-access-*` header is
 * dropped (so clients cannot spoof them) and Access's own are added.
 */
export function injectAccessHeaders(
  headers: IncomingHttpHeaders,
  admission: Extract<Admission, { kind: 'user' | 'service' }>,
): void {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase().startsWith('cf-access-')) {
      delete headers[name];
    }
  }
  headers['cf-access-jwt-assertion'] = admission.token;
  if (admission.kind === 'user') {
    headers['cf-access-authenticated-user-email'] =
      admission.session.person.email;
    if (admission.refreshed && headers.cookie) {
      headers.cookie = replaceCookie(
        headers.cookie,
        AUTHORIZATION_COOKIE,
        admission.token,
      );
    }
  }
}
