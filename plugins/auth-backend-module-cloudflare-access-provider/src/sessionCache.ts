/** Session state: which store holds it, under which keys, for how long, and what happens when the store fails. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  CacheService,
  CacheServiceOptions,
  CacheServiceSetOptions,
  LoggerService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { durationToMilliseconds, JsonValue } from '@backstage/types';
import { LRUCache } from 'lru-cache';
import {
  describeRedisGuard,
  guardRedisClientErrors,
} from './redisClientErrors';
import { CloudflareAccessMetrics, NO_METRICS } from './metrics';
import { CloudflareAccessClaims } from './types';

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
// After the shared cache failed, it is left alone this long before it is tried again.
const CACHE_RETRY_MS = 5_000;
// Entries that fail their check are warned about at most this often.
const FORGED_WARNING_MS = 60_000;

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
  // The keys of one verified claims object: a request asks for its identity and sign-in keys, and a remembered token for many requests.
  readonly #sessions = new WeakMap<
    CloudflareAccessClaims,
    Map<string, string>
  >();

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
    let keys = this.#sessions.get(claims);
    if (!keys) {
      keys = new Map();
      this.#sessions.set(claims, keys);
    }
    const known = keys.get(`${kind}|${scope}`);
    if (known) {
      return known;
    }
    const id = claims.sub
      ? `person|${claims.identity_nonce || `${claims.sub}|${claims.iat}`}`
      : `service|${claims.common_name}|${claims.iat}`;
    const session = digest(`${claims.iss}|${id}`);
    const key = this.#key(
      kind,
      scope ? digest(`${scope}|${session}`) : session,
    );
    keys.set(`${kind}|${scope}`, key);
    return key;
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
export function sessionTtlMs(claims: CloudflareAccessClaims): number {
  return Math.min(claims.exp * 1000 - Date.now(), MAX_SESSION_TTL_MS);
}

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
class BoundedMemoryCache implements CacheService {
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
  static create(maxEntries: number, metrics = NO_METRICS) {
    return new BoundedMemoryCache(
      new LRUCache({ max: maxEntries, ttlAutopurge: false, allowStale: false }),
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

/** An entry as the shared store holds it: the value's JSON and its MAC, bound to the key. */
type SignedEntry = { json: string; mac: string };

/**
 * The shared store with every value authenticated: written as its JSON and
 * an HMAC-SHA256 over key and JSON, with a secret the store does not hold.
 * A value that fails the check (written by someone with access to Redis,
 * copied from another key) is a miss, counted and warned about.
 */
class AuthenticatedCache implements CacheService {
  readonly #store: CacheService;
  readonly #secret: Buffer;
  readonly #forged: { count: number; warnedAt: number; logger?: LoggerService };

  constructor(
    store: CacheService,
    secret: Buffer,
    forged: { count: number; warnedAt: number; logger?: LoggerService },
  ) {
    this.#store = store;
    this.#secret = secret;
    this.#forged = forged;
  }

  #mac(key: string, json: string): Buffer {
    return createHmac('sha256', this.#secret)
      .update(key)
      .update('\n')
      .update(json)
      .digest();
  }

  async get<TValue extends JsonValue>(key: string) {
    return (await this.read<TValue>(key)).value;
  }

  /** The value, and whether an entry was there but failed its check. */
  async read<TValue extends JsonValue>(
    key: string,
  ): Promise<{ value?: TValue; rejected?: true }> {
    const entry = await this.#store.get<SignedEntry>(key);
    if (entry === undefined) {
      return {};
    }
    const expected = this.#mac(key, String(entry?.json));
    const given = Buffer.from(String(entry?.mac), 'base64url');
    if (
      typeof entry?.json !== 'string' ||
      given.length !== expected.length ||
      !timingSafeEqual(given, expected)
    ) {
      this.#rejected();
      return { rejected: true };
    }
    return { value: JSON.parse(entry.json) as TValue };
  }

  async set(key: string, value: JsonValue, options?: CacheServiceSetOptions) {
    const json = JSON.stringify(value);
    const entry: SignedEntry = {
      json,
      mac: this.#mac(key, json).toString('base64url'),
    };
    await this.#store.set(key, entry, options);
  }

  async delete(key: string) {
    await this.#store.delete(key);
  }

  withOptions(options: CacheServiceOptions): AuthenticatedCache {
    return new AuthenticatedCache(
      this.#store.withOptions(options),
      this.#secret,
      this.#forged,
    );
  }

  #rejected() {
    const forged = this.#forged;
    forged.count += 1;
    const now = Date.now();
    if (now - forged.warnedAt >= FORGED_WARNING_MS) {
      forged.warnedAt = now;
      forged.logger?.warn(
        `The shared cache holds Cloudflare Access entries that fail their authentication (${forged.count} so far): each was ignored; something other than Backstage writes to this cache (check who can write to Redis)`,
      );
    }
  }
}

class CacheTimeoutError extends Error {
  name = 'CacheTimeoutError';
}

/**
 * The shared cache, each call bounded by a timeout, with this process's
 * bounded copy behind it: every write also lands in the copy, and while the
 * shared cache fails (errors or takes longer than the timeout) reads and
 * writes use the copy alone, so sign-in goes on without sharing. The shared
 * cache is tried again every few seconds; one line is logged when it fails
 * and one when it is back.
 */
class ResilientCache implements CacheService {
  readonly #shared: AuthenticatedCache;
  readonly #local: CacheService;
  readonly #timeoutMs: number;
  readonly #logger?: LoggerService;
  readonly #metrics: CloudflareAccessMetrics;
  readonly #state: { downUntil: number; down: boolean };

  constructor(
    shared: AuthenticatedCache,
    local: CacheService,
    options: {
      timeoutMs: number;
      logger?: LoggerService;
      metrics: CloudflareAccessMetrics;
    },
    state = { downUntil: 0, down: false },
  ) {
    this.#shared = shared;
    this.#local = local;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#state = state;
    this.#metrics.observeCircuit(() => state.down);
  }

  async get<TValue extends JsonValue>(key: string) {
    const shared = await this.#call(() => this.#shared.read<TValue>(key));
    if (!shared.ok) {
      this.#metrics.cacheRead({ layer: 'shared', result: 'unavailable' });
      return this.#local.get<TValue>(key);
    }
    const { value, rejected } = shared.value;
    let result: 'hit' | 'miss' | 'rejected' =
      value === undefined ? 'miss' : 'hit';
    if (rejected) {
      result = 'rejected';
    }
    this.#metrics.cacheRead({ layer: 'shared', result });
    return value;
  }

  async set(key: string, value: JsonValue, options?: CacheServiceSetOptions) {
    await this.#local.set(key, value, options);
    await this.#call(() => this.#shared.set(key, value, options));
  }

  async delete(key: string) {
    await this.#local.delete(key);
    await this.#call(() => this.#shared.delete(key));
  }

  withOptions(options: CacheServiceOptions): CacheService {
    return new ResilientCache(
      this.#shared.withOptions(options),
      this.#local.withOptions(options),
      {
        timeoutMs: this.#timeoutMs,
        logger: this.#logger,
        metrics: this.#metrics,
      },
      this.#state,
    );
  }

  async #call<T>(
    operation: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    const state = this.#state;
    if (state.down && Date.now() < state.downUntil) {
      return { ok: false };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const value = await Promise.race([
        operation(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new CacheTimeoutError(`no answer within ${this.#timeoutMs} ms`),
              ),
            this.#timeoutMs,
          );
        }),
      ]);
      if (state.down) {
        state.down = false;
        this.#logger?.info(
          'The shared cache answers again: Cloudflare Access session state is shared by the replicas again',
        );
      }
      return { ok: true, value };
    } catch (error) {
      if (!state.down) {
        this.#logger?.warn(
          `The shared cache failed (${
            (error as Error).message
          }): Cloudflare Access sign-in goes on with this replica's own session state, unshared, and tries the cache again every ${
            CACHE_RETRY_MS / 1000
          }s`,
        );
      }
      state.down = true;
      state.downUntil = Date.now() + CACHE_RETRY_MS;
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }
}

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
  },
): CacheService {
  const { cache, rootConfig, logger } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const maxEntries = options.maxEntries ?? MEMORY_STORE_MAX_ENTRIES;
  const store = rootConfig.getOptionalString('backend.cache.store') ?? 'memory';
  if (store === 'memory') {
    return BoundedMemoryCache.create(maxEntries, metrics);
  }
  const local = BoundedMemoryCache.create(maxEntries);
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
  });
  return new ResilientCache(shared, local, {
    timeoutMs: options.timeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS,
    logger,
    metrics,
  });
}
