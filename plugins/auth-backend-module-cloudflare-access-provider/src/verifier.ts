import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  JWTVerifyGetKey,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { CloudflareAccessConfig } from './config';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessRefusalReason,
  CloudflareAccessUnavailableError,
  sanitizedCause,
} from './errors';
import { CloudflareAccessClaims, CloudflareAccessServiceToken } from './types';

/** A verified token: a person's, or a listed service token's. */
export type CheckedAccessToken = {
  claims: CloudflareAccessClaims;
  serviceToken?: CloudflareAccessServiceToken;
};

const AUDIENCE_FIX =
  'set auth.providers.cfaccess.audience to the AUD tag of this Access application';

/** Operator-facing words for each refusal; no token values, so they are safe to return. */
const REFUSAL_MESSAGES: Record<CloudflareAccessRefusalReason, string> = {
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
  keys_unavailable:
    'The Cloudflare Access signing keys could not be fetched; check that the team domain is reachable from Backstage, then try again',
};

/** Throws the 401 for a refusal reason, with the reason's fixed message. */
export function refuse(
  reason: CloudflareAccessRefusalReason,
  cause?: unknown,
): never {
  if (reason === 'keys_unavailable') {
    throw new CloudflareAccessUnavailableError(
      REFUSAL_MESSAGES[reason],
      sanitizedCause(cause),
    );
  }
  throw new CloudflareAccessAuthenticationError(
    reason,
    REFUSAL_MESSAGES[reason],
    sanitizedCause(cause),
  );
}

function reasonFor(error: unknown): CloudflareAccessRefusalReason {
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

// Tokens verified in the last few seconds that this process remembers: a page's burst of refreshes verifies once.
const VERIFIED_TOKENS_MAX = 10_000;

// Access keeps a replaced key published for a week, so keys seen in the last week stay trusted.
const LAST_GOOD_KEYS_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * jose's remote key set (caching, refetch on an unknown kid with a cooldown,
 * timeouts), plus what it lacks: while the certs endpoint is down, verify
 * with the last key set it served rather than refusing everyone.
 */
function keySetWithLastGood(
  certsUrl: string,
  cooldownMs: number,
  cacheMaxAgeMs: number,
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(certsUrl), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: cacheMaxAgeMs,
  });
  let lastGood: { keys: JWTVerifyGetKey; at: number } | undefined;
  // After a failed fetch, requests use the last good keys until then instead of waiting on Access again.
  let retryAt = 0;
  return async (header, token) => {
    if (lastGood && Date.now() < retryAt) {
      return lastGood.keys(header, token);
    }
    try {
      const key = await remote(header, token);
      // A snapshot copies the key set, so take one at most once per cooldown, not per request.
      if (!lastGood || Date.now() - lastGood.at > cooldownMs) {
        const jwks = remote.jwks();
        if (jwks) {
          lastGood = { keys: createLocalJWKSet(jwks), at: Date.now() };
        }
      }
      return key;
    } catch (error) {
      if (
        reasonFor(error) !== 'keys_unavailable' ||
        !lastGood ||
        Date.now() - lastGood.at > LAST_GOOD_KEYS_MS
      ) {
        throw error;
      }
      retryAt = Date.now() + cooldownMs;
      return lastGood.keys(header, token);
    }
  };
}

/** Verifies Access application tokens against the team domain's published keys. */
export class AccessTokenVerifier {
  readonly #config: CloudflareAccessConfig;
  readonly #keys: JWTVerifyGetKey;
  readonly #cooldownMs: number;
  /** Tokens that passed `check`, by their exact text, for no longer than a key set refetch nor their life. */
  readonly #verified = new LRUCache<string, CheckedAccessToken>({
    max: VERIFIED_TOKENS_MAX,
  });

  constructor(
    config: CloudflareAccessConfig,
    options?: {
      /** How long after a key set fetch an unknown `kid` waits for the next one. */
      cooldownMs?: number;
      /** How long a fetched key set is used before it is fetched again. */
      cacheMaxAgeMs?: number;
    },
  ) {
    this.#config = config;
    this.#cooldownMs = options?.cooldownMs ?? 30_000;
    this.#keys = keySetWithLastGood(
      config.certsUrl,
      this.#cooldownMs,
      options?.cacheMaxAgeMs ?? 10 * 60_000,
    );
  }

  /** Returns the verified claims, or throws an error with a refusal reason. */
  async verify(token: string): Promise<CloudflareAccessClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        algorithms: ['RS256'],
        issuer: this.#config.teamDomain,
        audience: this.#config.audiences,
        clockTolerance: this.#config.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      return refuse(reasonFor(error), error);
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
        Date.now(),
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
