/** Every refusal's words: the 401 messages, and for each 403 the person's sentence, the administrator's fix and the details of the case. */
import type {
  CloudflareAccessNotAllowedReason,
  CloudflareAccessRefusalReason,
} from './errors';

const AUDIENCE_FIX =
  'set auth.providers.cfaccess.audience to the AUD tag of this Access application';

/** Operator-facing words for each refusal; no token values, so they are safe to return. */
export const REFUSAL_MESSAGES: Record<CloudflareAccessRefusalReason, string> = {
  missing:
    'No Cloudflare Access token on the request; put Backstage behind Cloudflare Access, or check jwtHeaderName and authorizationCookieName',
  malformed: 'The Cloudflare Access token is not a well-formed JWT',
  algorithm:
    'The Cloudflare Access token is not signed with RS256, the only algorithm Access uses',
  signature:
    'The Cloudflare Access token signature does not verify; the token was altered or not issued by this team domain',
  unknown_key: `The Cloudflare Access token is signed with a key this team domain does not publish; check auth.providers.cfaccess.teamName (or teamDomain) names the team that issued it`,
  issuer:
    'The Cloudflare Access token was issued by another team domain; set auth.providers.cfaccess.teamName (or teamDomain) to the team domain of this Access application',
  audience: `The Cloudflare Access token audience is not one of the configured audiences; ${AUDIENCE_FIX}`,
  expired:
    'The Cloudflare Access token has expired; sign in to Cloudflare Access again (if this repeats, check the server clock)',
  not_yet_valid:
    'The Cloudflare Access token is not valid yet; check the server clock, or raise auth.providers.cfaccess.clockTolerance',
  token_type:
    'The token is not a Cloudflare Access application token; send the application token Access puts on requests to this application',
  subject:
    'The Cloudflare Access token names neither a user nor a service token',
  service_token:
    'The Cloudflare Access service token is not allowed to sign in; add its Client ID to auth.providers.cfaccess.serviceTokens',
  session_ended:
    'The Cloudflare Access session behind this token has ended (signed out, expired or revoked); sign in to Cloudflare Access again',
  session_unconfirmed:
    'Cloudflare Access could not confirm the session behind this token: get-identity was refused by something other than Access (a firewall rule or a proxy?); sign in to Cloudflare Access again, and check that /cdn-cgi/access/get-identity is not blocked',
  keys_unavailable:
    'The Cloudflare Access signing keys could not be fetched; check that the team domain is reachable from Backstage, then try again',
};

/**
 * Person-facing words for each 403: what happened and what the person can
 * do, with nothing an outsider should learn (no allowed domains, group ids
 * or other people's entities); those are in the error's `details`.
 */
export const NOT_ALLOWED_MESSAGES: Record<
  CloudflareAccessNotAllowedReason,
  string
> = {
  no_user:
    'You passed Cloudflare Access, but Backstage has no user for you. Ask your Backstage administrator to add you.',
  ambiguous:
    'Backstage has more than one user for you and cannot tell which one you are. Ask your Backstage administrator.',
  domain:
    'Accounts of your email domain may not sign in to Backstage. Sign in with another account, or ask your Backstage administrator.',
  group:
    'You are not in a group that may sign in to Backstage. Ask your Backstage administrator for access.',
  groups_unavailable:
    'Your groups could not be checked right now. Try again in a minute.',
  no_email:
    'Your Cloudflare Access identity has no email address, which Backstage needs. Sign in with another account.',
  provisioned_name_taken:
    'Backstage could not create a user for you: the name it would have is taken. Ask your Backstage administrator.',
  provisioning_limit:
    'Backstage cannot add new people right now. Try again later, or ask your Backstage administrator.',
};

/**
 * Administrator-facing words for each 403, as `cfaccess-explain` prints them
 * beside the backend's verdict: what the sign-in looked for and where to
 * change it. The backend's log has the specifics of each refusal.
 */
export const NOT_ALLOWED_FIXES: Record<
  CloudflareAccessNotAllowedReason,
  string
> = {
  no_user:
    'no sign-in resolver found a User entity for this person: add one that a configured resolver matches (emailMatchingUserEntityProfileEmail matches spec.profile.email), or turn on provisionUsers',
  ambiguous:
    'several User entities match this person: make exactly one match (the log names them)',
  domain: "the person's email domain is not in the resolver's allowedDomains",
  group:
    "the person is in none of the resolver's allowedGroups (by Access group id or group email)",
  groups_unavailable:
    'get-identity could not be reached to read the Access groups that allowedGroups needs; check that the team domain is reachable',
  no_email:
    'the Access identity has no usable email, which the resolver needs; use idMatchingUserEntityAnnotation, or an identity provider that gives an email',
  provisioned_name_taken:
    'the name provisioning would give this person is held by another entity: give them a User of their own, or rename the other (the log names both)',
  provisioning_limit:
    'maxProvisionedUsers or maxNewProvisionedUsersPerHour is reached: raise it, or remove provisioned Users',
};

/**
 * Administrator-facing details of each 403, with the specifics of the case
 * (which resolver, which domains, which entities): for the log, the audit
 * trail and `cfaccess-explain`, never for the browser.
 */
export const NOT_ALLOWED_DETAILS = {
  no_user: (subject: string, misses: string[]) =>
    `${subject} passed Cloudflare Access but is not a Backstage user. ${misses.join(
      '. ',
    )}. Add a User entity that one of the configured sign-in resolvers matches`,
  ambiguous: (refs: string[], query: string) =>
    `${
      refs.length > 1 ? refs.join(' and ') : 'Several User entities'
    } all match ${query}, so the sign-in cannot tell which one this person is; make exactly one User entity match`,
  domain: (email: string, resolver: string, allowedDomains: string[]) =>
    `${
      email || 'This identity'
    } is not in an allowed email domain; the ${resolver} sign-in resolver allows ${allowedDomains.join(
      ', ',
    )} (its allowedDomains option)`,
  groups_unavailable: (email: string, resolver: string) =>
    `The Access groups of ${email} could not be read from Cloudflare Access right now, and the ${resolver} sign-in resolver only allows members of some groups (allowedGroups); try again shortly`,
  group: (email: string, resolver: string, allowedGroups: string[]) =>
    `${email} is in none of the Access groups allowed to sign in (${allowedGroups.join(
      ', ',
    )}, the allowedGroups option of the ${resolver} sign-in resolver); add them to one in your identity provider or Access`,
  no_email: (resolver: string) =>
    `The Cloudflare Access identity has no usable email (one @ with a local part and a domain), which the ${resolver} sign-in resolver needs`,
  provisioned_name_taken: (
    email: string,
    userEntityRef: string,
    holderIsProvisioned: boolean,
  ) =>
    `${email} would be provisioned as ${userEntityRef}, which ${
      holderIsProvisioned
        ? 'is provisioned for another email'
        : 'an entity of another source holds'
    }; give this person a User entity of their own, or rename the other`,
  provisioning_limit_per_hour: (userEntityRef: string, maxPerHour: number) =>
    `${userEntityRef} is not provisioned: ${maxPerHour} new people were provisioned in the last hour, the resolver's maxNewProvisionedUsersPerHour; try again later`,
  provisioning_limit_users: (userEntityRef: string, count: number) =>
    `${userEntityRef} is not provisioned: ${count} Users are provisioned, the resolver's maxProvisionedUsers; raise it or remove Users`,
};
