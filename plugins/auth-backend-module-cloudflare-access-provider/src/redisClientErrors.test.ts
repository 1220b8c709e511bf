import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  describeRedisGuard,
  guardRedisClientErrors,
} from './redisClientErrors';

describe('guardRedisClientErrors', () => {
  it('finds the Redis client of the installed @keyv/redis and says which versions', () => {
    const guard = guardRedisClientErrors();
    expect(guard).toEqual({
      applied: true,
      keyvRedis: expect.stringMatching(/^\d+\.\d+\.\d+/),
      redisClient: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(describeRedisGuard(guard)).toContain(
      `@keyv/redis ${guard.keyvRedis}, @redis/client ${guard.redisClient}`,
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
    const client: EventEmitter = createClient();
    expect(client).toBeInstanceOf(EventEmitter);
    expect(client.listenerCount('error')).toBe(0);
    // With the guard, an unheard 'error' no longer throws.
    guardRedisClientErrors();
    expect(() =>
      client.emit('error', new Error('Socket closed')),
    ).not.toThrow();
    // A client that listens still gets its errors.
    const heard: unknown[] = [];
    client.on('error', error => heard.push(error));
    client.emit('error', new Error('again'));
    expect(heard).toHaveLength(1);
  });
});
