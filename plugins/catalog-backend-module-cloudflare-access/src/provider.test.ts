/** The provider on the module's own clock: a sighting from the future ages like one of now, and a restart re-emits the table. */
import { sqliteFileDatabase, TestDatabase } from './__testUtils__/databases';
import {
  personSeen,
  ProvisioningBackend,
  startProvisioningBackend,
} from './__testUtils__/testBackend';

const DAY_MS = 24 * 60 * 60 * 1000;

// Entity ingestion is asynchronous; the waits are bounded at 10 s each.
jest.setTimeout(60_000);

describe('the provisioning provider', () => {
  let database: TestDatabase;
  let backend: ProvisioningBackend;
  // The module's clock: real time plus what a test adds.
  let clockOffsetMs = 0;
  const clock = () => new Date(Date.now() + clockOffsetMs);
  const start = () =>
    startProvisioningBackend({
      database: database.config,
      clock,
      providerConfig: { removeAfter: '30d' },
    });

  beforeEach(async () => {
    clockOffsetMs = 0;
    database = await sqliteFileDatabase();
    backend = await start();
  });

  afterEach(async () => {
    await backend?.stop();
    await database?.dispose();
  });

  it('ages a sighting dated in the future from the time it arrived', async () => {
    await backend.publish(
      personSeen('from.the.future@example.com', {
        seenAt: new Date(Date.now() + 365 * DAY_MS).toISOString(),
      }),
    );
    await backend.waitForUser('from.the.future_example.com');

    clockOffsetMs = 31 * DAY_MS;
    await backend.publish(
      personSeen('seen.now@example.com', { seenAt: clock().toISOString() }),
    );
    await backend.waitForUser('seen.now_example.com');
    await backend.runSync();

    await backend.waitForNoUser('from.the.future_example.com');
    expect(
      await backend.getUser('from.the.future_example.com'),
    ).toBeUndefined();
    expect(await backend.getUser('seen.now_example.com')).toBeDefined();
  });

  it('at start, brings back a provisioned User missing from the catalog and removes one not seen within removeAfter', async () => {
    await backend.publish(personSeen('comes.back@example.com'));
    await backend.publish(
      personSeen('long.gone@example.com', {
        seenAt: new Date(Date.now() - 31 * DAY_MS).toISOString(),
      }),
    );
    const user = await backend.waitForUser('comes.back_example.com');
    await backend.waitForUser('long.gone_example.com');
    // Gone from the catalog (deleted through its API), still in the provider's table.
    const deleted = await fetch(
      `${backend.url}/api/catalog/entities/by-uid/${user.metadata.uid}`,
      { method: 'DELETE' },
    );
    expect(deleted.status).toBe(204);
    await backend.waitForNoUser('comes.back_example.com');
    await backend.stop();

    // No event and no scheduled sync (its first run is half an hour away): only the start syncs.
    backend = await start();
    await backend.waitForUser('comes.back_example.com');
    await backend.waitForNoUser('long.gone_example.com');
    expect(await backend.getUser('comes.back_example.com')).toMatchObject({
      spec: { profile: { email: 'comes.back@example.com' } },
    });
    expect(await backend.getUser('long.gone_example.com')).toBeUndefined();
  });
});
