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
  | 'keys_unavailable';

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
 * A known identity that may not sign in: a 403.
 *
 * @public
 */
export class CloudflareAccessNotAllowedError extends NotAllowedError {
  /** Why the identity may not sign in: `no_user`, `ambiguous`, `domain`, `group`, `groups_unavailable`, `no_email`. */
  readonly reason: string;

  constructor(reason: string, message: string, cause?: Error) {
    super(message, cause);
    this.reason = reason;
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
