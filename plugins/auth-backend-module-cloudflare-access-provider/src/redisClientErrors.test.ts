import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  describeRedisGuard,
  guardRedisClientErrors,
} from './redisClientErrors';

describe('guardRedisClientErrors', () => {
  it('finds the Redis client of the installed @keyv/redis and says which versions', () => {
    const guard = guardRedisClientErrors('redis://127.0.0.1:1');
    expect(guard).toEqual({
      applied: true,
      keyvRedis: expect.stringMatching(/^\d+\.\d+\.\d+/),
      redisClient: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(describeRedisGuard(guard)).toContain(
      `(@keyv/redis ${guard.keyvRedis}, @redis/client ${guard.redisClient})`,
    );
  });

  // What the guard relies on; a new @keyv/redis or @redis/client that changes it fails here.
  it('relies on a client that emits "error" with no listener of its own', () => {
    const fromBackendDefaults = createRequire(
      require.resolve('@backstage/backend-defaults/package.json'),
    );
    const { createClient } = createRequire(
      fromBackendDefaults.resolve('@keyv/redis'),
    )('@redis/client');
    const client: EventEmitter & { options?: { url?: string } } = createClient({
      url: 'redis://127.0.0.1:6390',
    });
    expect(client).toBeInstanceOf(EventEmitter);
    expect(client.listenerCount('error')).toBe(0);
    // The guard knows the cache's client by the connection it was made with.
    expect(client.options?.url).toBe('redis://127.0.0.1:6390');
    // With the guard, an unheard 'error' no longer throws.
    guardRedisClientErrors('redis://127.0.0.1:6390');
    expect(() =>
      client.emit('error', new Error('Socket closed')),
    ).not.toThrow();
    // Another plugin's client, on another Redis, keeps Node's default: it throws.
    const other: EventEmitter = createClient({
      url: 'redis://127.0.0.1:6391',
    });
    expect(() => other.emit('error', new Error('Socket closed'))).toThrow(
      'Socket closed',
    );
    // A client that listens still gets its errors.
    const heard: unknown[] = [];
    client.on('error', error => heard.push(error));
    client.emit('error', new Error('again'));
    expect(heard).toHaveLength(1);
  });
});
