/** A workaround for Backstage's Redis cache store, whose client has no 'error' listener and so never reconnects. */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { LoggerService } from '@backstage/backend-plugin-api';

// The Redis client classes given a default 'error' listener in this process.
const guarded = new WeakSet<object>();
// The connections (Backstage's cache's) whose clients get it; other clients are left as they are.
const guardedConnections = new Set<string>();

/**
 * Backstage's Redis store (`@keyv/redis` 4.x, used by `@backstage/backend-defaults`
 * up to at least 0.19) creates a `@redis/client` and never listens to its
 * 'error' event. When the connection drops, the client emits 'error' from
 * inside its socket handler; with no listener that throws (an uncaught
 * exception, "Socket closed unexpectedly") before the client schedules its
 * reconnect, so every later cache call waits forever, even once Redis is back.
 * This gives the clients of `connection` (the cache's `backend.cache.connection`)
 * a default: an 'error' nobody listens to is logged at debug level (the
 * session cache logs the outage once, and its recovery) and the client goes
 * on to reconnect. Clients that listen, and clients of other connections
 * (another plugin's own Redis), are unchanged.
 *
 * Returns whether the client class was found, and the versions of
 * `@keyv/redis` and `@redis/client` it was found in.
 */
export function guardRedisClientErrors(
  connection: string,
  logger?: LoggerService,
): RedisGuard {
  let createClient: () => EventEmitter;
  let versions: { keyvRedis: string; redisClient: string };
  try {
    const fromBackendDefaults = createRequire(
      require.resolve('@backstage/backend-defaults/package.json'),
    );
    const fromKeyvRedis = createRequire(
      fromBackendDefaults.resolve('@keyv/redis'),
    );
    ({ createClient } = fromKeyvRedis('@redis/client'));
    versions = {
      keyvRedis: versionOf(
        fromBackendDefaults.resolve('@keyv/redis'),
        '@keyv/redis',
      ),
      redisClient: versionOf(
        fromKeyvRedis.resolve('@redis/client'),
        '@redis/client',
      ),
    };
  } catch {
    return { applied: false };
  }
  // The class right below EventEmitter is the client's own; an unconnected instance finds it.
  let proto = Object.getPrototypeOf(createClient());
  while (proto && Object.getPrototypeOf(proto) !== EventEmitter.prototype) {
    proto = Object.getPrototypeOf(proto);
  }
  if (!proto) {
    return { applied: false, ...versions };
  }
  guardedConnections.add(connection);
  if (!guarded.has(proto)) {
    const emit: EventEmitter['emit'] = proto.emit;
    Object.defineProperty(proto, 'emit', {
      configurable: true,
      writable: true,
      value(
        this: EventEmitter & { options?: { url?: string } },
        event: string | symbol,
        ...args: unknown[]
      ) {
        if (
          event === 'error' &&
          this.listenerCount('error') === 0 &&
          guardedConnections.has(String(this.options?.url))
        ) {
          logger?.debug(`Redis cache client: ${(args[0] as Error)?.message}`);
          return false;
        }
        return emit.call(this, event, ...args);
      },
    });
    guarded.add(proto);
  }
  return { applied: true, ...versions };
}

/** The version of the package a resolved file belongs to (its package.json is not always exported). */
function versionOf(resolved: string, name: string): string {
  for (let dir = dirname(resolved); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      if (manifest.name === name) {
        return manifest.version;
      }
    }
  }
  return 'unknown';
}

/** Whether the guard applied, and to which versions. */
export type RedisGuard = {
  applied: boolean;
  keyvRedis?: string;
  redisClient?: string;
};

/** Says at start-up, in one line, whether the guard applied and to what. */
export function describeRedisGuard(guard: RedisGuard): string {
  const versions = guard.keyvRedis
    ? `@keyv/redis ${guard.keyvRedis}, @redis/client ${guard.redisClient}`
    : 'no @keyv/redis found';
  return guard.applied
    ? `Cloudflare Access: the clients of backend.cache.connection (${versions}) log their unheard errors and reconnect after a dropped connection; other Redis clients are unchanged`
    : `Cloudflare Access could not find the Redis cache client (${versions}) to keep it reconnecting after a dropped connection; a Redis outage may leave cache calls waiting until their timeout until Backstage restarts`;
}
