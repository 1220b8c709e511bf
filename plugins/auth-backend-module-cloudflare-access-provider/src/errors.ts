/** Why requests are refused: reason codes, their messages and the errors that carry them. */
import { errors } from 'jose';
import {
  AuthenticationError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { NOT_ALLOWED_MESSAGES, REFUSAL_MESSAGES } from './refusals';

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
