/** The provider on the module's own clock: a sighting from the future ages like one of now, and a restart re-emits the table. */
import { useProvisioningBackend } from './__testUtils__/provisioningFixture';
import { personSeen } from './__testUtils__/testBackend';

const DAY_MS = 24 * 60 * 60 * 1000;

// Entity ingestion is asynchronous; the waits are bounded at 10 s each.
jest.setTimeout(60_000);

describe('the provisioning provider', () => {
  const backend = useProvisioningBackend(
    () => ({ providerConfig: { removeAfter: '30d' } }),
    { each: true },
  );

  it('ages a sighting dated in the future from the time it arrived', async () => {
    await backend.publish(
      personSeen('from.the.future@example.com', {
        seenAt: new Date(Date.now() + 365 * DAY_MS).toISOString(),
      }),
    );
    await backend.waitForUser('from.the.future_example.com');

    await backend.syncLater(31 * DAY_MS, 'seen.now@example.com');

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
    // No event and no scheduled sync (its first run is half an hour away): only the start syncs.
    await backend.restart();
    await backend.waitForUser('comes.back_example.com');
    await backend.waitForNoUser('long.gone_example.com');
    expect(await backend.getUser('comes.back_example.com')).toMatchObject({
      spec: { profile: { email: 'comes.back@example.com' } },
    });
    expect(await backend.getUser('long.gone_example.com')).toBeUndefined();
  });
});
