/** The module's in-process store: a bounded LRU behind the CacheService interface. */
import {
  CacheService,
  CacheServiceOptions,
  CacheServiceSetOptions,
} from '@backstage/backend-plugin-api';
import { durationToMilliseconds, JsonValue } from '@backstage/types';
import { LRUCache } from 'lru-cache';
import { Clock, lruTimedBy } from '../clock';
import { CloudflareAccessMetrics, NO_METRICS } from '../metrics';

// lru-cache takes whole, positive milliseconds.
const toMs = (ttl: CacheServiceSetOptions['ttl']) =>
  ttl === undefined
    ? undefined
    : Math.max(
        1,
        Math.ceil(typeof ttl === 'number' ? ttl : durationToMilliseconds(ttl)),
      );

/**
 * A CacheService over a bounded LRU: the least recently used entry goes
 * first once `max` is reached, and expired entries are dropped as they are
 * passed. Values are kept as given (not serialized); callers never mutate them.
 */
export class BoundedMemoryCache implements CacheService {
  readonly #lru: LRUCache<string, { value: JsonValue }>;
  readonly #defaultTtlMs?: number;
  readonly #metrics: CloudflareAccessMetrics;

  constructor(
    lru: LRUCache<string, { value: JsonValue }>,
    defaultTtlMs: number | undefined,
    metrics: CloudflareAccessMetrics,
  ) {
    this.#lru = lru;
    this.#defaultTtlMs = defaultTtlMs;
    this.#metrics = metrics;
  }

  /** `metrics` counts reads where this is the store itself, not a shared store's fallback copy. */
  static create(maxEntries: number, clock: Clock, metrics = NO_METRICS) {
    return new BoundedMemoryCache(
      new LRUCache({
        max: maxEntries,
        ttlAutopurge: false,
        allowStale: false,
        ...lruTimedBy(clock),
      }),
      undefined,
      metrics,
    );
  }

  async get<TValue extends JsonValue>(key: string) {
    const value = this.#lru.get(key)?.value as TValue | undefined;
    this.#metrics.cacheRead({
      layer: 'memory',
      result: value === undefined ? 'miss' : 'hit',
    });
    return value;
  }

  async set(key: string, value: JsonValue, options?: CacheServiceSetOptions) {
    const ttl = toMs(options?.ttl) ?? this.#defaultTtlMs;
    this.#lru.set(key, { value }, { ttl });
  }

  async delete(key: string) {
    this.#lru.delete(key);
  }

  withOptions(options: CacheServiceOptions): CacheService {
    return new BoundedMemoryCache(
      this.#lru,
      toMs(options.defaultTtl),
      this.#metrics,
    );
  }
}
