/** Why requests are refused: reason codes, their messages and the errors that carry them. */
import { errors } from 'jose';
import {
  AuthenticationError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';

/**
 * Why a request was refused; stable codes for logs, the audit trail and the
 * troubleshooting table.
 *
 * @public
 */
export type CloudflareAccessRefusalReason =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'unknown_key'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'token_type'
  | 'subject'
  | 'service_token'
  | 'session_ended'
  | 'session_unconfirmed'
  | 'keys_unavailable';

/**
 * Why a known identity may not sign in (a 403).
 *
 * @public
 */
export type CloudflareAccessNotAllowedReason =
  | 'no_user'
  | 'ambiguous'
  | 'domain'
  | 'group'
  | 'groups_unavailable'
  | 'no_email'
  | 'provisioned_name_taken'
  | 'provisioning_limit';

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
 * A request whose Access token does not prove an identity: a 401.
 *
 * The message says what to fix and never carries the token or its claims.
 *
 * @public
 */
export class CloudflareAccessAuthenticationError extends AuthenticationError {
  /** Which check failed. */
  readonly reason: CloudflareAccessRefusalReason;

  constructor(
    reason: CloudflareAccessRefusalReason,
    message: string,
    cause?: Error,
  ) {
    super(message, cause);
    this.reason = reason;
  }
}

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
 * A known identity that may not sign in: a 403. Its message is the
 * person-facing sentence of its reason; what an administrator needs (which
 * resolver, which domains, which entities) is in `details`, which goes to
 * the log, the audit trail and `cfaccess-explain`, never to the browser.
 *
 * @public
 */
export class CloudflareAccessNotAllowedError extends NotAllowedError {
  /** Why the identity may not sign in. */
  readonly reason: CloudflareAccessNotAllowedReason;
  // Private, so the error handler (which sends an error's own fields) never sends it.
  readonly #details: string;

  constructor(
    reason: CloudflareAccessNotAllowedReason,
    details: string,
    cause?: Error,
  ) {
    super(NOT_ALLOWED_MESSAGES[reason], cause);
    this.reason = reason;
    this.#details = details;
  }

  /** The refusal in an administrator's words: what was looked for, and what to change. */
  get details(): string {
    return this.#details;
  }
}

/**
 * Access's signing keys could not be fetched and none are known yet: a 503
 * that recovers by itself once the team domain answers.
 *
 * @public
 */
export class CloudflareAccessUnavailableError extends ServiceUnavailableError {
  /** Always `keys_unavailable`. */
  readonly reason = 'keys_unavailable' as const;
}

/** Throws the 401 (503 for unreachable keys) for a refusal reason, with the reason's fixed message. */
export function refuse(
  reason: CloudflareAccessRefusalReason,
  cause?: unknown,
): never {
  // An expected refusal: its stack says nothing, and capturing one was the
  // largest part of what a refusal cost this module under a flood.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let error: Error;
  try {
    error =
      reason === 'keys_unavailable'
        ? new CloudflareAccessUnavailableError(
            REFUSAL_MESSAGES[reason],
            sanitizedCause(cause),
          )
        : new CloudflareAccessAuthenticationError(
            reason,
            REFUSAL_MESSAGES[reason],
            sanitizedCause(cause),
          );
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  throw error;
}

/** The refusal reason a jose verification error stands for, by its class. */
export function refusalReasonOf(error: unknown): CloudflareAccessRefusalReason {
  if (error instanceof errors.JWTExpired) {
    return 'expired';
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'issuer';
      case 'aud':
        return 'audience';
      case 'nbf':
        return 'not_yet_valid';
      default:
        return 'malformed';
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'algorithm';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'signature';
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return 'unknown_key';
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return 'malformed';
  }
  // What is left is the key set failing to load: timeouts, bad responses, network errors.
  return 'keys_unavailable';
}

/** Keeps an error's kind and text but drops its fields, which can hold token claims. */
export function sanitizedCause(error: unknown): Error | undefined {
  if (!(error instanceof Error)) {
    return undefined;
  }
  const cause = new Error(error.message);
  cause.name = error.name;
  delete cause.stack;
  return cause;
}

// Matched by name, as Backstage itself does: the auth plugin may bring its own copy of @backstage/errors.
export function isNotFound(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'NotFoundError';
}

export function isConflict(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConflictError';
}
