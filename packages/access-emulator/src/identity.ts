import type { Person } from './catalog';
import type { Session } from './sessions';
import type { AccessEmulatorIdentity } from './types';

/** The emulator's one identity provider, as Access names an IdP by its own UUID. */
const EMULATOR_IDP_ID = 'daa10a4d-fab9-43aa-8c46-b6794b7ce8da';

/** The claims Access adds to an app token for a signed-in person. */
export function sessionClaims(
  session: Session,
  country: string,
): Record<string, unknown> {
  return {
    email: session.person.email,
    sub: session.person.userId,
    identity_nonce: session.identityNonce,
    country,
  };
}

/** What get-identity answers for a person whose session started at `iat`. */
export function accessIdentity(
  person: Person,
  iat: number,
  country: string,
): AccessEmulatorIdentity {
  return {
    id: person.idpUserId,
    name: person.name,
    email: person.email,
    groups: person.groups,
    idp: { id: EMULATOR_IDP_ID, type: 'emulator' },
    user_uuid: person.userId,
    iat,
    geo: { country },
    amr: ['pwd'],
  };
}
