/** Session state: under which keys, and for how long. */
import { createHash } from 'node:crypto';
import { Clock } from '../clock';
import { CloudflareAccessClaims } from '../types';

/**
 * How many entries the module keeps in process: about two per active Access
 * session (identity and sign-in), plus one per person found in the catalog.
 */
export const MEMORY_STORE_MAX_ENTRIES = 20_000;
/** A session's entries live no longer than its token, nor a day, so a changed identity shows up within a day. */
export const MAX_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
/** While get-identity is down or answers nonsense, a session asks again this often, not on every refresh. */
export const DEGRADED_RETRY_MS = 30_000;
/** A reused Backstage token keeps at least this long to live, so the browser never gets a spent one. */
export const MIN_TOKEN_LIFE_MS = 5 * 60 * 1000;
/** How long one read or write of the shared cache may take before the module goes on without it. */
export const DEFAULT_CACHE_TIMEOUT_MS = 250;
/** What an entry of session state describes; every key names its kind. */
export type SessionStateKind =
  | 'identity'
  | 'identity-warned'
  | 'sign-in'
  | 'catalog-user'
  | 'catalog-entities'
  | 'person-seen';

const digest = (text: string) =>
  createHash('sha256').update(text).digest('base64url');

/**
 * The keys of one deployment's session state: each names its kind and a
 * namespace derived from the team domain, the audiences and the operator's
 * `cacheNamespace`, so two deployments sharing one Redis never read each
 * other's entries.
 */
export class SessionKeys {
  readonly #namespace: string;

  constructor(deployment: {
    teamDomain: string;
    audiences: string[];
    cacheNamespace?: string;
  }) {
    this.#namespace = digest(
      JSON.stringify([
        deployment.teamDomain,
        [...deployment.audiences].sort(),
        deployment.cacheNamespace ?? '',
      ]),
    ).slice(0, 16);
  }

  /**
   * A key for something that belongs to one Access session: a person's
   * session by its `identity_nonce` (else user and issue time), a service
   * token by its Client ID and issue time; the two can never share a key.
   */
  session(
    kind: SessionStateKind,
    claims: CloudflareAccessClaims,
    scope = '',
  ): string {
    const id = claims.sub
      ? `person|${claims.identity_nonce || `${claims.sub}|${claims.iat}`}`
      : `service|${claims.common_name}|${claims.iat}`;
    const session = digest(`${claims.iss}|${id}`);
    return this.#key(kind, scope ? digest(`${scope}|${session}`) : session);
  }

  /** A key for an answer to a question (a catalog query), the same for every session that asks it. */
  answer(kind: SessionStateKind, question: unknown): string {
    return this.#key(kind, digest(JSON.stringify(question)));
  }

  #key(kind: SessionStateKind, id: string) {
    return `cfaccess:${this.#namespace}:${kind}:v2:${id}`;
  }
}

/** How long something may be cached for a session: no longer than its token lives, nor a day. */
export function sessionTtlMs(
  claims: CloudflareAccessClaims,
  clock: Clock,
): number {
  return Math.min(claims.exp * 1000 - clock.now(), MAX_SESSION_TTL_MS);
}
