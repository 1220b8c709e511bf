/** The shared store, believed only for what this deployment wrote: every value authenticated. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  CacheService,
  CacheServiceOptions,
  CacheServiceSetOptions,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { JsonValue } from '@backstage/types';
import { Clock } from '../clock';

// Entries that fail their check are warned about at most this often.
const FORGED_WARNING_MS = 60_000;

/** An entry as the shared store holds it: the value's JSON and its MAC, bound to the key. */
type SignedEntry = { json: string; mac: string };

/** What the views of one store share: the entries that failed their check, and when that was last warned about. */
type ForgedEntries = {
  count: number;
  warnedAt: number;
  logger?: LoggerService;
  clock: Clock;
};

/**
 * The shared store with every value authenticated: written as its JSON and
 * an HMAC-SHA256 over key and JSON, with a secret the store does not hold.
 * A value that fails the check (written by someone with access to Redis,
 * copied from another key) is a miss, counted and warned about.
 */
export class AuthenticatedCache implements CacheService {
  readonly #store: CacheService;
  readonly #secret: Buffer;
  readonly #forged: ForgedEntries;

  constructor(store: CacheService, secret: Buffer, forged: ForgedEntries) {
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
    const now = forged.clock.now();
    if (now - forged.warnedAt >= FORGED_WARNING_MS) {
      forged.warnedAt = now;
      forged.logger?.warn(
        `The shared cache holds Cloudflare Access entries that fail their authentication (${forged.count} so far): each was ignored; something other than Backstage writes to this cache (check who can write to Redis)`,
      );
    }
  }
}
