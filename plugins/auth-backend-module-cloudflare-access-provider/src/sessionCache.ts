/** The session cache: which store holds the module's session state, and what happens when it fails. */
import {
  CacheService,
  LoggerService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { AuthenticatedCache } from './cache/authenticatedCache';
import { BoundedMemoryCache } from './cache/memoryCache';
import { ResilientCache } from './cache/resilientCache';
import {
  DEFAULT_CACHE_TIMEOUT_MS,
  MEMORY_STORE_MAX_ENTRIES,
} from './cache/sessionKeys';
import { Clock, SYSTEM_CLOCK } from './clock';
import { CloudflareAccessMetrics, NO_METRICS } from './metrics';
import {
  describeRedisGuard,
  guardRedisClientErrors,
} from './redisClientErrors';

/**
 * The cache the module keeps its session state in. Backstage's `memory`
 * store (the default) is one process's Map that never evicts, so there the
 * state goes to a bounded LRU of `maxEntries` in this process instead:
 * nothing is shared in memory anyway. With a shared store (`backend.cache`
 * redis, valkey, memcache...) it is the cache service, so replicas share it,
 * each call bounded by `timeoutMs` and backed by an in-process copy that
 * serves while the shared store is down, and every value authenticated with
 * `secret`, so that what the store hands back is believed only if this
 * deployment wrote it.
 *
 * @public
 */
export function createCloudflareAccessSessionCache(options: {
  cache: CacheService;
  rootConfig: RootConfigService;
  logger?: LoggerService;
  /** How long one call to the shared cache may take; defaults to 250 ms. */
  timeoutMs?: number;
  /** The bound of the in-process store; defaults to 20,000 entries. */
  maxEntries?: number;
  /**
   * The secret that authenticates shared entries (`loadCacheSecret`); needed
   * with a shared store, where every value is authenticated with it.
   */
  secret?: Buffer;
}): CacheService {
  return createSessionCache(options);
}

/** The session cache, with its reads and circuit state counted in `metrics`. */
export function createSessionCache(
  options: Parameters<typeof createCloudflareAccessSessionCache>[0] & {
    metrics?: CloudflareAccessMetrics;
    clock?: Clock;
  },
): CacheService {
  const { cache, rootConfig, logger } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const maxEntries = options.maxEntries ?? MEMORY_STORE_MAX_ENTRIES;
  const store = rootConfig.getOptionalString('backend.cache.store') ?? 'memory';
  if (store === 'memory') {
    return BoundedMemoryCache.create(maxEntries, clock, metrics);
  }
  const local = BoundedMemoryCache.create(maxEntries, clock);
  if (!options.secret) {
    throw new Error(
      `The Cloudflare Access session cache on the shared store '${store}' needs the secret that authenticates its entries`,
    );
  }
  const connection = rootConfig.getOptionalString('backend.cache.connection');
  if (store === 'redis' && connection) {
    const guard = guardRedisClientErrors(connection, logger);
    if (guard.applied) {
      logger?.info(describeRedisGuard(guard));
    } else {
      logger?.warn(describeRedisGuard(guard));
    }
  }
  const shared = new AuthenticatedCache(cache, options.secret, {
    count: 0,
    warnedAt: -Infinity,
    logger,
    clock,
  });
  return new ResilientCache(shared, local, {
    timeoutMs: options.timeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS,
    logger,
    metrics,
    clock,
  });
}
