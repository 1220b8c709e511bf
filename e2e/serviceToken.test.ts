import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LOCAL_URL } from '../scripts/localStack';
import {
  REFRESH_URL,
  SERVICE_TOKEN,
  waitForCatalogUser,
} from './support/access';
import { startLocalStack, type LocalStack } from './support/stack';

const CATALOG_USERS_URL = `${LOCAL_URL}/api/catalog/entities?filter=kind=user`;

describe('service tokens through Cloudflare Access', () => {
  let stack: LocalStack | undefined;

  before(async () => {
    // No browser here: the emulator and the backend are enough.
    stack = await startLocalStack({
      label: 'service-token',
      servers: ['access', 'backend'],
    });
    await waitForCatalogUser('ada@example.com');
  });
  after(() => stack?.stop());

  test('a service token signs in as its subject and reads the catalog with that identity', async () => {
    const refresh = await fetch(REFRESH_URL, { headers: SERVICE_TOKEN });
    assert.equal(refresh.status, 200);
    const session = await refresh.json();
    assert.equal(
      session.backstageIdentity.identity.userEntityRef,
      'user:default/ci-bot',
    );
    assert.equal(session.providerInfo.serviceTokenId, 'demo-client.access');

    const catalog = await fetch(CATALOG_USERS_URL, {
      headers: {
        ...SERVICE_TOKEN,
        authorization: `Bearer ${session.backstageIdentity.token}`,
      },
    });
    assert.equal(catalog.status, 200);
    const names = (await catalog.json())
      .map((entity: any) => entity.metadata.name)
      .sort();
    assert.deepEqual(names, ['ada', 'ci-bot', 'grace', 'linus']);
  });

  test('passing Access is not enough for the catalog: it wants the Backstage token', async () => {
    const catalog = await fetch(CATALOG_USERS_URL, { headers: SERVICE_TOKEN });
    assert.equal(catalog.status, 401);
  });

  test('a wrong secret is refused by Access before it reaches Backstage', async () => {
    const refresh = await fetch(REFRESH_URL, {
      headers: {
        ...SERVICE_TOKEN,
        'CF-Access-Client-Secret': 'not-the-secret',
      },
    });
    assert.equal(refresh.status, 401);
    // The emulator's own refusal, not the backend's JSON error.
    assert.match(await refresh.text(), /service token .* was not accepted/);
  });
});
