/** Verifies Access application tokens and tells a person's token from a listed service token. */
import { jwtVerify, JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { Clock, lruTimedBy, SYSTEM_CLOCK } from './clock';
import { CloudflareAccessConfig } from './config';
import { refusalReasonOf, refuse } from './errors';
import { keySetWithLastGood } from './keySet';
import { CloudflareAccessMetrics } from './metrics';
import { CloudflareAccessClaims, CloudflareAccessServiceToken } from './types';

/** A verified token: a person's, or a listed service token's. */
export type CheckedAccessToken = {
  claims: CloudflareAccessClaims;
  serviceToken?: CloudflareAccessServiceToken;
};

// Tokens verified in the last few seconds that this process remembers: a page's burst of refreshes verifies once.
const VERIFIED_TOKENS_MAX = 10_000;
// ...and their size, counted as token text plus about a kilobyte of claims each.
const VERIFIED_TOKENS_MAX_BYTES = 32 * 1024 * 1024;
const VERIFIED_TOKEN_OVERHEAD_BYTES = 1024;

/**
 * The longest token accepted: Access tokens with custom claims run to a few
 * kilobytes, and Node refuses request headers past 16 KB anyway.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;
// Compact JWS: three base64url segments and nothing else (jose would skip whitespace, giving one token many spellings).
// An empty signature passes here so that an unsigned token is refused as such (algorithm).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Verifies Access application tokens against the team domain's published keys. */
export class AccessTokenVerifier {
  readonly #config: CloudflareAccessConfig;
  readonly #keys: JWTVerifyGetKey;
  readonly #cooldownMs: number;
  readonly #clock: Clock;
  /** Tokens that passed `check`, by their exact text, for no longer than a key set refetch nor their life. */
  readonly #verified: LRUCache<string, CheckedAccessToken>;

  constructor(
    config: CloudflareAccessConfig,
    options?: {
      /** How long after a key set fetch an unknown `kid` waits for the next one. */
      cooldownMs?: number;
      /** How long a fetched key set is used before it is fetched again. */
      cacheMaxAgeMs?: number;
      /** How long one fetch of the key set may take (5 s by default). */
      keyFetchTimeoutMs?: number;
      metrics?: CloudflareAccessMetrics;
      clock?: Clock;
    },
  ) {
    this.#config = config;
    this.#cooldownMs = options?.cooldownMs ?? 30_000;
    this.#clock = options?.clock ?? SYSTEM_CLOCK;
    this.#verified = new LRUCache({
      max: VERIFIED_TOKENS_MAX,
      maxSize: VERIFIED_TOKENS_MAX_BYTES,
      sizeCalculation: (_checked, token) =>
        token.length + VERIFIED_TOKEN_OVERHEAD_BYTES,
      ...lruTimedBy(this.#clock),
    });
    this.#keys = keySetWithLastGood(config.certsUrl, {
      cooldownMs: this.#cooldownMs,
      cacheMaxAgeMs: options?.cacheMaxAgeMs ?? 10 * 60_000,
      timeoutMs: options?.keyFetchTimeoutMs,
      metrics: options?.metrics,
      clock: this.#clock,
    });
  }

  /** About how many bytes the remembered tokens take, within its bound. */
  get rememberedBytes(): number {
    return this.#verified.calculatedSize;
  }

  /** Returns the verified claims, or throws an error with a refusal reason. */
  async verify(token: string): Promise<CloudflareAccessClaims> {
    // Refused before any crypto: a length and a syntax check cost next to nothing.
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      return refuse('malformed');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        algorithms: ['RS256'],
        issuer: this.#config.teamDomain,
        audience: this.#config.audiences,
        clockTolerance: this.#config.clockToleranceSeconds,
        requiredClaims: ['exp'],
        currentDate: new Date(this.#clock.now()),
      }));
    } catch (error) {
      return refuse(refusalReasonOf(error), error);
    }
    // Access signs `org` tokens (for the Zero Trust dashboard) with the same keys.
    if (payload.type !== undefined && payload.type !== 'app') {
      return refuse('token_type');
    }
    return {
      ...payload,
      aud: typeof payload.aud === 'string' ? [payload.aud] : payload.aud ?? [],
      sub: payload.sub ?? '',
      email: typeof payload.email === 'string' ? payload.email : '',
    } as CloudflareAccessClaims;
  }

  /**
   * Verifies the token and tells a person's token from a service token; a
   * service token must be listed in `serviceTokens` for one of its audiences.
   */
  async check(token: string): Promise<CheckedAccessToken> {
    const remembered = this.#verified.get(token);
    if (remembered) {
      return remembered;
    }
    const checked = await this.#checkNow(token);
    // The same text verifies the same way until it expires or the key set could change.
    const life = Math.floor(
      (checked.claims.exp + this.#config.clockToleranceSeconds) * 1000 -
        this.#clock.now(),
    );
    const ttl = Math.min(this.#cooldownMs, life);
    if (ttl > 0) {
      this.#verified.set(token, checked, { ttl });
    }
    return checked;
  }

  async #checkNow(token: string): Promise<CheckedAccessToken> {
    const claims = await this.verify(token);
    if (claims.sub) {
      return { claims };
    }
    // Access forwards service tokens with an empty sub and the Client ID as common_name.
    if (!claims.common_name) {
      return refuse('subject');
    }
    const serviceToken = this.#config.serviceTokens.find(
      entry => entry.token === claims.common_name,
    );
    const audienceAllowed =
      !serviceToken?.audience ||
      claims.aud.some(tag => serviceToken.audience!.includes(tag));
    if (!serviceToken || !audienceAllowed) {
      return refuse('service_token');
    }
    return { claims, serviceToken };
  }
}
