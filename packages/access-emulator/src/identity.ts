import { stableUuid } from './ids';
import type { AccessGroup } from './catalog';
import type { Session } from './sessions';

const EMULATOR_IDP_ID = stableUuid('idp', 'access-emulator');

/** Access's user id for an email: the token's `sub` and get-identity's `user_uuid`. */
export function userUuid(email: string): string {
  return stableUuid('user', email.toLowerCase());
}

/** The claims Access adds to an app token for a signed-in person. */
export function sessionClaims(session: Session, country: string): Record<string, unknown> {
  return {
    email: session.person.email,
    sub: userUuid(session.person.email),
    identity_nonce: session.identityNonce,
    country,
  };
}

/** What get-identity answers: the identity captured when the session started. */
export interface AccessIdentity {
  id: string;
  name: string;
  email: string;
  groups: AccessGroup[];
  idp: { id: string; type: 'emulator' };
  user_uuid: string;
  iat: number;
  geo: { country: string };
  amr: string[];
}

export function sessionIdentity(session: Session, country: string): AccessIdentity {
  const { person } = session;
  return {
    // At Cloudflare `id` is the identity provider's user id, distinct from `user_uuid`.
    id: stableUuid('idp-user', person.email.toLowerCase()),
    name: person.name,
    email: person.email,
    groups: person.groups,
    idp: { id: EMULATOR_IDP_ID, type: 'emulator' },
    user_uuid: userUuid(person.email),
    iat: session.startedAt,
    geo: { country },
    amr: ['pwd'],
  };
}
