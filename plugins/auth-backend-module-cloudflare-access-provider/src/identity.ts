import { createHash } from 'node:crypto';
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import { z } from 'zod/v3';
import { CloudflareAccessClaims, CloudflareAccessIdentityProfile } from './types';

// Bounds a cache entry for a long Access session so a changed identity shows up within a day.
const MAX_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
// While get-identity is down, a session asks again this often, not on every refresh.
const DEGRADED_RETRY_MS = 30_000;

const identitySchema = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    email: z.string().optional(),
    groups: z
      .array(
        z
          .object({
            id: z.string().optional(),
            name: z.string(),
            email: z.string().optional(),
          })
          .passthrough(),
      )
      .optional(),
  })
  .passthrough();

/** The identity behind a session, and whether it came from the token alone. */
export type SessionIdentity = {
  identity: CloudflareAccessIdentityProfile;
  degraded: boolean;
};

// One digest per verified claims object: a request asks for its identity and sign-in keys, and a remembered token for many requests.
const sessionDigests = new WeakMap<CloudflareAccessClaims, string>();

/**
 * A cache key for something that belongs to one Access session: the session's
 * `identity_nonce`, else its user and issue time (service tokens, older tokens).
 */
export function sessionCacheKey(
  kind: string,
  claims: CloudflareAccessClaims,
): string {
  let digest = sessionDigests.get(claims);
  if (!digest) {
    const session =
      claims.identity_nonce ||
      `${claims.sub || claims.common_name}:${claims.iat}`;
    digest = createHash('sha256')
      .update(`${claims.iss}|${session}`)
      .digest('base64url');
    sessionDigests.set(claims, digest);
  }
  return `cfaccess:${kind}:v1:${digest}`;
}

/** How long something may be cached for a session: no longer than its token lives, nor a day. */
export function sessionTtlMs(claims: CloudflareAccessClaims): number {
  return Math.min(claims.exp * 1000 - Date.now(), MAX_SESSION_TTL_MS);
}

function identityFromClaims(
  claims: CloudflareAccessClaims,
): CloudflareAccessIdentityProfile {
  return {
    id: claims.sub,
    name: claims.email,
    email: claims.email,
    groups: [],
  };
}

/**
 * Fetches the identity behind an Access session from the team domain's
 * get-identity endpoint, cached for the session, one request in flight per
 * session, and falling back to the token's own claims when Access is down.
 */
export class AccessIdentityClient {
  readonly #identityUrl: string;
  readonly #timeoutMs: number;
  readonly #cache?: CacheService;
  readonly #logger?: LoggerService;
  readonly #inFlight = new Map<string, Promise<SessionIdentity>>();

  constructor(options: {
    identityUrl: string;
    timeoutMs: number;
    cache?: CacheService;
    logger?: LoggerService;
  }) {
    this.#identityUrl = options.identityUrl;
    this.#timeoutMs = options.timeoutMs;
    this.#cache = options.cache;
    this.#logger = options.logger;
  }

  async getIdentity(
    token: string,
    claims: CloudflareAccessClaims,
  ): Promise<SessionIdentity> {
    const key = sessionCacheKey('identity', claims);
    const cached = await this.#cache?.get<SessionIdentity>(key);
    if (cached) {
      return cached;
    }
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#load(key, token, claims).finally(() =>
        this.#inFlight.delete(key),
      );
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async #load(
    key: string,
    token: string,
    claims: CloudflareAccessClaims,
  ): Promise<SessionIdentity> {
    const ttl = sessionTtlMs(claims);
    let result: SessionIdentity;
    try {
      result = { identity: await this.#fetch(token), degraded: false };
    } catch (error) {
      await this.#warnOnce(claims, ttl, error as Error);
      result = { identity: identityFromClaims(claims), degraded: true };
    }
    const keepMs = result.degraded ? Math.min(ttl, DEGRADED_RETRY_MS) : ttl;
    if (keepMs > 0) {
      await this.#cache?.set(key, result, { ttl: keepMs });
    }
    return result;
  }

  async #warnOnce(claims: CloudflareAccessClaims, ttl: number, error: Error) {
    const key = sessionCacheKey('identity-warned', claims);
    if (await this.#cache?.get(key)) {
      return;
    }
    if (ttl > 0) {
      await this.#cache?.set(key, true, { ttl });
    }
    this.#logger?.warn(
      `Cloudflare Access get-identity failed for ${
        claims.email || claims.sub
      }; signing in with the token's own claims and no groups until it answers: ${
        error.message
      }`,
    );
  }

  async #fetch(token: string): Promise<CloudflareAccessIdentityProfile> {
    const response = await fetch(this.#identityUrl, {
      // Access reads the session from its own cookie name, whatever this app calls it.
      headers: { cookie: `CF_Authorization=${token}` },
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!response.ok) {
      throw new Error(`get-identity answered HTTP ${response.status}`);
    }
    const body = identitySchema.parse(await response.json());
    return {
      id: body.id ?? '',
      name: body.name ?? body.email ?? '',
      email: body.email ?? '',
      groups: (body.groups ?? []).map(group => ({
        id: group.id ?? group.name,
        name: group.name,
        email: group.email ?? '',
      })),
    };
  }
}
