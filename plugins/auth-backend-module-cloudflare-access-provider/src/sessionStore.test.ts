import { mockServices } from '@backstage/backend-test-utils';
import { sessionStore } from './sessionStore';

describe('sessionStore', () => {
  const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
  const rootConfig = (data: object) => mockServices.rootConfig({ data });

  it('uses the cache service as it is when the store is shared', () => {
    const cache = mockServices.cache.mock();
    const config = rootConfig({ backend: { cache: { store: 'redis' } } });
    expect(sessionStore(cache, config)).toBe(cache);
  });

  describe('with the memory store', () => {
    it('drops the least recently used entry beyond its bound', async () => {
      const store = sessionStore(mockServices.cache.mock(), rootConfig({}), 3);
      for (const key of ['a', 'b', 'c']) {
        await store.set(key, { key });
      }
      await store.get('a');
      await store.set('d', { key: 'd' });
      expect(await store.get('b')).toBeUndefined();
      for (const key of ['a', 'c', 'd']) {
        expect(await store.get(key)).toEqual({ key });
      }
    });

    it('forgets an entry when its TTL has passed', async () => {
      const store = sessionStore(
        mockServices.cache.mock(),
        rootConfig({ backend: { cache: { store: 'memory' } } }),
      );
      await store.set('short', 'soon gone', { ttl: 50 });
      await store.set('long', 'kept', { ttl: { minutes: 1 } });
      await store.delete('nothing');
      expect(await store.get('short')).toBe('soon gone');
      await sleep(100);
      expect(await store.get('short')).toBeUndefined();
      expect(await store.get('long')).toBe('kept');
    });

    it('applies a default TTL set with withOptions', async () => {
      const store = sessionStore(mockServices.cache.mock(), rootConfig({}));
      const shortLived = store.withOptions({ defaultTtl: 50 });
      await shortLived.set('key', 1);
      await sleep(100);
      expect(await shortLived.get('key')).toBeUndefined();
    });
  });
});
