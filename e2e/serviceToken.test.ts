import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  REFRESH_PATH,
  SERVICE_TOKEN,
  waitForCatalogUser,
} from './support/access';
import { startLocalStack, type StartedLocalStack } from './support/stack';

describe('service tokens through Cloudflare Access', () => {
  let stack: StartedLocalStack | undefined;
  /** A sign-in through the emulator with these headers. */
  const refreshWith = (headers: Record<string, string>) =>
    fetch(`${stack!.urls.access}${REFRESH_PATH}`, { headers });
  /** The catalog's Users, asked for through the emulator with these headers. */
  const catalogUsersWith = (headers: Record<string, string>) =>
    fetch(`${stack!.urls.access}/api/catalog/entities?filter=kind=user`, {
      headers,
    });

  before(async () => {
    // No browser here: the emulator and the backend are enough.
    stack = await startLocalStack({
      label: 'service-token',
      servers: ['access', 'backend'],
    });
    await waitForCatalogUser(stack.urls.access, 'ada@example.com');
  });
  after(() => stack?.stop());

  test('a service token signs in as its subject and reads the catalog with that identity', async () => {
    const refresh = await refreshWith(SERVICE_TOKEN);
    assert.equal(refresh.status, 200);
    const session = await refresh.json();
    assert.equal(
      session.backstageIdentity.identity.userEntityRef,
      'user:default/ci-bot',
    );
    assert.equal(session.providerInfo.serviceTokenId, 'demo-client.access');

    const catalog = await catalogUsersWith({
      ...SERVICE_TOKEN,
      authorization: `Bearer ${session.backstageIdentity.token}`,
    });
    assert.equal(catalog.status, 200);
    const names = (await catalog.json())
      .map((entity: any) => entity.metadata.name)
      .sort();
    assert.deepEqual(names, ['ada', 'ci-bot', 'grace', 'linus']);
  });

  test('passing Access is not enough for the catalog: it wants the Backstage token', async () => {
    const catalog = await catalogUsersWith(SERVICE_TOKEN);
    assert.equal(catalog.status, 401);
  });

  test('a wrong secret is refused by Access before it reaches Backstage', async () => {
    const refresh = await refreshWith({
      ...SERVICE_TOKEN,
      'CF-Access-Client-Secret': 'not-the-secret',
    });
    assert.equal(refresh.status, 401);
    // The emulator's own refusal, not the backend's JSON error.
    assert.match(await refresh.text(), /service token .* was not accepted/);
  });
});
