/** The rule that names the User entity provisioned for an email, shared so sign-in and catalog agree. */
import { createHash } from 'node:crypto';
import { accessGroupIdKey, asciiLowerCase } from './identityRules';

/**
 * The User entity annotation holding the Access user id (the token's `sub`).
 *
 * @public
 */
export const CLOUDFLARE_ACCESS_USER_ID_ANNOTATION =
  'cloudflare.com/access-user-id';

/**
 * The `backstage.io/managed-by-location` of every provisioned User: how a
 * provisioned User is told from one kept elsewhere (org.yaml, an identity
 * provider's entity provider), to which it yields.
 *
 * @public
 */
export const CLOUDFLARE_ACCESS_PROVISIONING_LOCATION =
  'cloudflare-access:provisioning';

/**
 * The Group entity annotation holding the Access group id.
 *
 * @public
 */
export const CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION =
  'cloudflare.com/access-group-id';

const MAX_NAME = 63;
// The catalog's entity name syntax.
const ENTITY_NAME = /^[a-z0-9]([a-z0-9_.-]*[a-z0-9])?$/;
const LOCAL_PART = /^[a-z0-9._-]+$/;
// Host names have no underscore, which is what makes the readable form reversible.
const DOMAIN = /^[a-z0-9.-]+$/;
const HASH_LENGTH = 16;

/**
 * The name of the User entity provisioned for an email, or undefined when the
 * email has not exactly one `@` with something on each side.
 *
 * The email is lower-cased in ASCII only (so `\u212A`, the Kelvin sign, stays
 * apart from `k`). When its local part uses only letters, digits,
 * `.`, `_` and `-`, its domain only letters, digits, `.` and `-`, and the
 * result fits 63 characters, the name is `<local part>_<domain>`
 * (`jane.doe@example.com` is `jane.doe_example.com`): the last `_` splits it
 * back into the email. Otherwise it is the email with every other character
 * turned into `-`, cut to 46 characters, then `-` and 16 hex digits of the
 * email's SHA-256 (`a+b@example.com` is `a-b-example.com-<hash>`); it has no
 * `_`, so it never equals a readable name. Two emails never share a name.
 *
 * @public
 */
export function provisionedUserEntityName(email: string): string | undefined {
  const lower = asciiLowerCase(email);
  const parts = lower.split('@');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return undefined;
  }
  const [localPart, domain] = parts;
  const readable = `${localPart}_${domain}`;
  if (
    LOCAL_PART.test(localPart) &&
    DOMAIN.test(domain) &&
    readable.length <= MAX_NAME &&
    ENTITY_NAME.test(readable)
  ) {
    return readable;
  }
  const hash = createHash('sha256')
    .update(lower)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const prefix = lower
    .replace(/[^a-z0-9.-]/gu, '-')
    .slice(0, MAX_NAME - HASH_LENGTH - 1)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return prefix ? `${prefix}-${hash}` : hash;
}

/**
 * The entity ref of the User provisioned for an email (namespace `default`),
 * or undefined when the email is not usable.
 *
 * @public
 */
export function provisionedUserEntityRef(email: string): string | undefined {
  const name = provisionedUserEntityName(email);
  return name ? `user:default/${name}` : undefined;
}

const GROUP_PREFIX = 'access-group-';
const GROUP_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * The name of the Group entity provisioned for an Access group (the
 * resolver's `provisionGroups`), from its id, never its display name (which
 * anyone may choose in many identity providers).
 *
 * The id is taken as it is, its case included (`Admins` and `admins` are
 * two groups in identity providers where people name groups), except that a
 * UUID-like id folds case. When it is then lower-case letters and digits in
 * runs joined by single `-` (a UUID, as Access group ids are) and fits, the
 * name is `access-group-<id>`; otherwise it is `access-group.` and 16 hex
 * digits of the id's SHA-256. Readable names have no `.`, so the two never
 * meet. A Group of another source may still hold such a name: the auth
 * module grants it only when it is the provisioned one.
 *
 * @public
 */
export function provisionedGroupEntityName(groupId: string): string {
  const id = accessGroupIdKey(groupId);
  if (GROUP_ID.test(id) && GROUP_PREFIX.length + id.length <= MAX_NAME) {
    return `${GROUP_PREFIX}${id}`;
  }
  const hash = createHash('sha256')
    .update(id)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  return `access-group.${hash}`;
}

/**
 * The entity ref of the Group provisioned for an Access group (namespace
 * `default`).
 *
 * @public
 */
export function provisionedGroupEntityRef(groupId: string): string {
  return `group:default/${provisionedGroupEntityName(groupId)}`;
}
