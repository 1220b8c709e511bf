/** The shared store bounded by a timeout, with this process's copy serving while it fails. */
import {
  CacheService,
  CacheServiceOptions,
  CacheServiceSetOptions,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { JsonValue } from '@backstage/types';
import { Clock } from '../clock';
import { CloudflareAccessMetrics } from '../metrics';
import { AuthenticatedCache } from './authenticatedCache';

// After the shared cache failed, it is left alone this long before it is tried again.
export const CACHE_RETRY_MS = 5_000;
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
export class ResilientCache implements CacheService {
  readonly #shared: AuthenticatedCache;
  readonly #local: CacheService;
  readonly #timeoutMs: number;
  readonly #logger?: LoggerService;
  readonly #metrics: CloudflareAccessMetrics;
  readonly #clock: Clock;
  readonly #state: { downUntil: number; down: boolean };

  constructor(
    shared: AuthenticatedCache,
    local: CacheService,
    options: {
      timeoutMs: number;
      logger?: LoggerService;
      metrics: CloudflareAccessMetrics;
      clock: Clock;
    },
    state = { downUntil: 0, down: false },
  ) {
    this.#shared = shared;
    this.#local = local;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#clock = options.clock;
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
        clock: this.#clock,
      },
      this.#state,
    );
  }

  async #call<T>(
    operation: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    const state = this.#state;
    if (state.down && this.#clock.now() < state.downUntil) {
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
      state.downUntil = this.#clock.now() + CACHE_RETRY_MS;
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }
}
