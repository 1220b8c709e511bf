import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { readCloudflareAccessConfig } from './config';
import { createSessionCache } from './sessionCache';
import { TestClock } from './__testUtils__/clock';
import { SessionKeys } from './cache/sessionKeys';
import { CloudflareAccessClaims } from './types';

describe('createCloudflareAccessSessionCache', () => {
  const rootConfig = (data: object) => mockServices.rootConfig({ data });
  const clock = new TestClock();
  // The memory store never calls the cache service: Backstage's own memory store does not bound its size.
  const memoryStore = (maxEntries?: number) =>
    createSessionCache({
      cache: mockServices.cache.mock(),
      rootConfig: rootConfig({}),
      maxEntries,
      clock,
    });

  describe('with the memory store', () => {
    it('drops the least recently used entry beyond its bound', async () => {
      const store = memoryStore(3);
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
      const store = memoryStore();
      await store.set('short', 'soon gone', { ttl: 50 });
      await store.set('long', 'kept', { ttl: { minutes: 1 } });
      await store.delete('nothing');
      expect(await store.get('short')).toBe('soon gone');
      clock.advance(100);
      expect(await store.get('short')).toBeUndefined();
      expect(await store.get('long')).toBe('kept');
    });

    it('applies a default TTL set with withOptions', async () => {
      const shortLived = memoryStore().withOptions({ defaultTtl: 50 });
      await shortLived.set('key', 1);
      clock.advance(100);
      expect(await shortLived.get('key')).toBeUndefined();
    });
  });
});

describe('SessionKeys', () => {
  const claims = (extra: Partial<CloudflareAccessClaims>) =>
    ({
      iss: 'https://acme.cloudflareaccess.com',
      iat: 1,
      exp: 2,
      ...extra,
    } as CloudflareAccessClaims);
  const keysFor = (data: object) =>
    new SessionKeys(
      readCloudflareAccessConfig(
        new ConfigReader({ teamName: 'acme', audience: 'aud', ...data }),
      ),
    );

  it('names the kind and the deployment in every key', () => {
    const person = claims({ sub: 'u1', identity_nonce: 'n1' });
    const key = keysFor({}).session('identity', person);
    expect(key).toMatch(/^cfaccess:[\w-]{16}:identity:v2:[\w-]+$/);
    expect(keysFor({ audience: 'other' }).session('identity', person)).not.toBe(
      key,
    );
    expect(
      keysFor({ cacheNamespace: 'staging' }).session('identity', person),
    ).not.toBe(key);
    expect(keysFor({}).session('sign-in', person, 'cfaccess')).not.toBe(
      keysFor({}).session('sign-in', person, 'cfaccess-custom'),
    );
    expect(keysFor({}).answer('catalog-user', { q: 1 })).toMatch(
      /^cfaccess:[\w-]{16}:catalog-user:v2:/,
    );
  });

  it('never gives a person and a service token the same session key', () => {
    const keys = keysFor({});
    const person = claims({ sub: 'ci.access', identity_nonce: '' });
    const service = claims({ sub: '', common_name: 'ci.access' });
    expect(keys.session('identity', person)).not.toBe(
      keys.session('identity', service),
    );
  });
});
