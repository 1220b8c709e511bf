/** Access's signing keys: jose's remote key set, plus the last good copy while the certs endpoint is down. */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  JWTVerifyGetKey,
} from 'jose';
import { Clock, SYSTEM_CLOCK } from './clock';
import { refusalReasonOf } from './errors';
import { CloudflareAccessMetrics, NO_METRICS } from './metrics';

// Access keeps a replaced key published for a week, so keys seen in the last week stay trusted.
const LAST_GOOD_KEYS_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * jose's remote key set (caching, refetch on an unknown kid with a cooldown,
 * timeouts), plus what it lacks: while the certs endpoint is down, verify
 * with the last key set it served rather than refusing everyone.
 */
export function keySetWithLastGood(
  certsUrl: string,
  options: {
    cooldownMs: number;
    cacheMaxAgeMs: number;
    /** How long one fetch of the key set may take; jose's 5 s by default. */
    timeoutMs?: number;
    metrics?: CloudflareAccessMetrics;
    /** The last good copy's age and retry window; jose times its own fetches. */
    clock?: Clock;
  },
): JWTVerifyGetKey {
  const { cooldownMs, cacheMaxAgeMs } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const clock = options.clock ?? SYSTEM_CLOCK;
  let fetchedAt: number | undefined;
  const remote = createRemoteJWKSet(new URL(certsUrl), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: cacheMaxAgeMs,
    ...(options.timeoutMs !== undefined && {
      timeoutDuration: options.timeoutMs,
    }),
    // jose's own fetch, counted: jose fetches only when its copy is old or a kid is unknown.
    [customFetch]: async (url, options) => {
      try {
        const response = await fetch(url, options);
        metrics.keyFetch(response.status === 200 ? 'ok' : 'error');
        if (response.status === 200) {
          fetchedAt = clock.now();
        }
        return response;
      } catch (error) {
        metrics.keyFetch('error');
        throw error;
      }
    },
  });
  metrics.observeKeys(() =>
    fetchedAt === undefined ? undefined : (clock.now() - fetchedAt) / 1000,
  );
  let lastGood: { keys: JWTVerifyGetKey; at: number } | undefined;
  // After a failed fetch, requests use the last good keys until then instead of waiting on Access again.
  let retryAt = 0;
  return async (header, token) => {
    if (lastGood && clock.now() < retryAt) {
      return lastGood.keys(header, token);
    }
    try {
      const key = await remote(header, token);
      // A snapshot copies the key set, so take one at most once per cooldown, not per request.
      if (!lastGood || clock.now() - lastGood.at > cooldownMs) {
        const jwks = remote.jwks();
        if (jwks) {
          lastGood = { keys: createLocalJWKSet(jwks), at: clock.now() };
        }
      }
      return key;
    } catch (error) {
      if (
        refusalReasonOf(error) !== 'keys_unavailable' ||
        !lastGood ||
        clock.now() - lastGood.at > LAST_GOOD_KEYS_MS
      ) {
        throw error;
      }
      retryAt = clock.now() + cooldownMs;
      return lastGood.keys(header, token);
    }
  };
}
