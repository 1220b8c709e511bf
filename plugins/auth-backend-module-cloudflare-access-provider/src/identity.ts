import { createHash } from 'node:crypto';
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import { z } from 'zod/v3';
import { CloudflareAccessClaims, CloudflareAccessIdentityProfile } from './types';

const IDENTITY_TIMEOUT_MS = 5000;
// Bounds a cache entry for a long Access session so a changed identity shows up within a day.
const MAX_IDENTITY_TTL_MS = 24 * 60 * 60 * 1000;

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

/** One key per Access session: the identity behind a session never changes. */
function sessionKey(claims: CloudflareAccessClaims): string {
  const session = claims.identity_nonce || `${claims.sub}:${claims.iat}`;
  const digest = createHash('sha256')
    .update(`${claims.iss}|${session}`)
    .digest('base64url');
  return `cfaccess:identity:v1:${digest}`;
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
  readonly #cache?: CacheService;
  readonly #logger?: LoggerService;
  readonly #inFlight = new Map<string, Promise<SessionIdentity>>();

  constructor(options: {
    identityUrl: string;
    cache?: CacheService;
    logger?: LoggerService;
  }) {
    this.#identityUrl = options.identityUrl;
    this.#cache = options.cache;
    this.#logger = options.logger;
  }

  async getIdentity(
    token: string,
    claims: CloudflareAccessClaims,
  ): Promise<SessionIdentity> {
    const key = sessionKey(claims);
    const cached = await this.#cache?.get<CloudflareAccessIdentityProfile>(key);
    if (cached) {
      return { identity: cached, degraded: false };
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
    let identity: CloudflareAccessIdentityProfile;
    try {
      identity = await this.#fetch(token);
    } catch (error) {
      this.#logger?.warn(
        `Cloudflare Access get-identity failed for ${
          claims.email || claims.sub
        }; signing in with the token's own claims and no groups: ${
          (error as Error).message
        }`,
      );
      return { identity: identityFromClaims(claims), degraded: true };
    }
    const ttl = Math.min(claims.exp * 1000 - Date.now(), MAX_IDENTITY_TTL_MS);
    if (ttl > 0) {
      await this.#cache?.set(key, identity, { ttl });
    }
    return { identity, degraded: false };
  }

  async #fetch(token: string): Promise<CloudflareAccessIdentityProfile> {
    const response = await fetch(this.#identityUrl, {
      // Access reads the session from its own cookie name, whatever this app calls it.
      headers: { cookie: `CF_Authorization=${token}` },
      signal: AbortSignal.timeout(IDENTITY_TIMEOUT_MS),
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
