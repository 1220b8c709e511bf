import {
  CacheService,
  CacheServiceOptions,
  CacheServiceSetOptions,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { durationToMilliseconds, JsonValue } from '@backstage/types';
import { LRUCache } from 'lru-cache';

/**
 * How many entries the module keeps in process when the cache store is
 * `memory`: about two per active Access session (identity and sign-in), plus
 * one per person found in the catalog.
 */
export const MEMORY_STORE_MAX_ENTRIES = 20_000;

// lru-cache takes whole, positive milliseconds.
const toMs = (ttl: CacheServiceSetOptions['ttl']) =>
  ttl === undefined
    ? undefined
    : Math.max(1, Math.ceil(typeof ttl === 'number' ? ttl : durationToMilliseconds(ttl)));

/**
 * A CacheService over a bounded LRU: the least recently used entry goes
 * first once `max` is reached, and expired entries are dropped as they are
 * passed. Values are kept as given (not serialized); callers never mutate them.
 */
class BoundedMemoryCache implements CacheService {
  readonly #lru: LRUCache<string, { value: JsonValue }>;
  readonly #defaultTtlMs?: number;

  constructor(lru: LRUCache<string, { value: JsonValue }>, defaultTtlMs?: number) {
    this.#lru = lru;
    this.#defaultTtlMs = defaultTtlMs;
  }

  async get<TValue extends JsonValue>(key: string) {
    return this.#lru.get(key)?.value as TValue | undefined;
  }

  async set(key: string, value: JsonValue, options?: CacheServiceSetOptions) {
    const ttl = toMs(options?.ttl) ?? this.#defaultTtlMs;
    this.#lru.set(key, { value }, { ttl });
  }

  async delete(key: string) {
    this.#lru.delete(key);
  }

  withOptions(options: CacheServiceOptions): CacheService {
    return new BoundedMemoryCache(this.#lru, toMs(options.defaultTtl));
  }
}

/**
 * The cache the module keeps its per-session state in. With a shared store
 * (`backend.cache.store` redis, valkey, memcache...) that is the cache
 * service, so replicas share it and the store bounds its own size. Backstage's
 * `memory` store (the default) is one process's Map that never evicts, so
 * there the state goes to a bounded LRU of `maxEntries` in this process
 * instead: nothing is shared in memory anyway, and size stays bounded.
 */
export function sessionStore(
  cache: CacheService,
  rootConfig: RootConfigService,
  maxEntries = MEMORY_STORE_MAX_ENTRIES,
): CacheService {
  const store = rootConfig.getOptionalString('backend.cache.store') ?? 'memory';
  if (store !== 'memory') {
    return cache;
  }
  return new BoundedMemoryCache(
    new LRUCache({ max: maxEntries, ttlAutopurge: false, allowStale: false }),
  );
}
