/** The module in a real backend: events in, Users out of the catalog's HTTP API, on SQLite and PostgreSQL. */
import {
  CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION,
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
  provisionedGroupEntityName,
  provisionedUserEntityName,
} from '@cfaccess/plugin-cloudflare-access-node';
import {
  isPostgresAvailable,
  postgresDatabase,
  sqliteFileDatabase,
  TestDatabase,
} from './__testUtils__/databases';
import { useProvisioningBackend } from './__testUtils__/provisioningFixture';
import { logRecord, personSeen } from './__testUtils__/testBackend';

const DAY_MS = 24 * 60 * 60 * 1000;

// Entity ingestion is asynchronous; the waits are bounded at 10 s each.
jest.setTimeout(30_000);

const databases: [string, () => Promise<TestDatabase>][] = [
  ['SQLite (files)', sqliteFileDatabase],
];
// In CI PostgreSQL must be there: the test fails rather than skip the store's PostgreSQL upsert.
if (isPostgresAvailable() || process.env.CI) {
  databases.push(['PostgreSQL', postgresDatabase]);
} else {
  // eslint-disable-next-line no-console
  console.warn(
    'PostgreSQL is not running: the provisioning tests run on SQLite only (set CFACCESS_TEST_POSTGRES_URL or start e2e/support/start-postgres.sh)',
  );
}

describe.each(databases)('provisioning on %s', (_name, createDatabase) => {
  const backend = useProvisioningBackend(
    () => ({ providerConfig: { removeAfter: '30d' } }),
    { createDatabase },
  );

  it('provisions an unknown person as a User with their email, name, Access id and Groups', async () => {
    await backend.publish(
      personSeen('Jane.Doe@example.com', {
        accessUserId: 'access-user-jane',
        displayName: 'Jane Doe',
        accessGroupIds: ['3f1c6e0a-8c5d-4e2b-9a77-52f0c1d2e3f4', 'g-sre'],
        memberOf: [
          'group:default/platform',
          'platform',
          'Group:default/platform',
          'group:ops/sre',
          'user:default/grace',
          'not:a:ref',
        ],
      }),
    );
    const user = await backend.waitForUser('jane.doe_example.com');
    expect(user).toMatchObject({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: {
        name: 'jane.doe_example.com',
        namespace: 'default',
        annotations: {
          'backstage.io/managed-by-location': 'cloudflare-access:provisioning',
          'backstage.io/managed-by-origin-location':
            'cloudflare-access:provisioning',
          [CLOUDFLARE_ACCESS_USER_ID_ANNOTATION]: 'access-user-jane',
        },
      },
      spec: {
        profile: { email: 'Jane.Doe@example.com', displayName: 'Jane Doe' },
        memberOf: ['group:default/platform', 'group:ops/sre'],
      },
    });
    // Access group ids never become entities of their own.
    expect(
      await backend.getUser('3f1c6e0a-8c5d-4e2b-9a77-52f0c1d2e3f4'),
    ).toBeUndefined();
  });

  it('keeps a Group per provisioned Access group, named by its id, and drops it with its last member', async () => {
    const uuid = '1c7f3e58-2b0a-4d8e-9f21-6a5b4c3d2e1f';
    await backend.publish(
      personSeen('grouped@example.com', {
        accessGroupIds: [
          '3f1c6e0a-8c5d-4e2b-9a77-52f0c1d2e3f4',
          uuid,
          'Odd/Id',
        ],
        memberOf: ['group:default/platform'],
        provisionedGroups: [
          { id: uuid, name: 'Release Managers', email: 'rm@example.com' },
          { id: 'Odd/Id', name: '' },
        ],
      }),
    );
    const user = await backend.waitForUser('grouped_example.com');
    const odd = provisionedGroupEntityName('Odd/Id');
    expect([...(user.spec?.memberOf as string[])].sort()).toEqual(
      [
        'group:default/platform',
        `group:default/access-group-${uuid}`,
        `group:default/${odd}`,
      ].sort(),
    );
    const group = await backend.waitForGroup(`access-group-${uuid}`);
    expect(group).toMatchObject({
      metadata: {
        title: 'Release Managers',
        annotations: {
          'backstage.io/managed-by-location': 'cloudflare-access:provisioning',
          [CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION]: uuid,
        },
      },
      spec: {
        type: 'access-group',
        profile: { displayName: 'Release Managers', email: 'rm@example.com' },
        children: [],
      },
    });
    expect(group.relations).toContainEqual({
      type: 'hasMember',
      targetRef: 'user:default/grouped_example.com',
    });
    await backend.waitForGroup(odd);

    // Seen again in neither group: both go at the next sync.
    await backend.publish(personSeen('grouped@example.com'));
    await backend.runSync();
    await backend.waitForNoGroup(`access-group-${uuid}`);
    await backend.waitForNoGroup(odd);
  });

  it('gives two emails a lossy rule would merge two Users', async () => {
    const emails = ['a+b@example.com', 'a-b@example.com'];
    for (const email of emails) {
      await backend.publish(personSeen(email));
    }
    const users = await Promise.all(
      emails.map(email =>
        backend.waitForUser(provisionedUserEntityName(email)!),
      ),
    );
    expect(users.map(user => user.metadata.name)).toEqual([
      provisionedUserEntityName('a+b@example.com'),
      'a-b_example.com',
    ]);
    expect(users.map(user => user.spec?.profile)).toEqual([
      { email: 'a+b@example.com' },
      { email: 'a-b@example.com' },
    ]);
    expect(users.map(user => user.spec?.memberOf)).toEqual([[], []]);
  });

  it('keeps the latest sighting when an older one arrives after it', async () => {
    const now = Date.now();
    await backend.publish(
      personSeen('renamed@example.com', {
        displayName: 'New Name',
        seenAt: new Date(now).toISOString(),
      }),
    );
    await backend.publish(
      personSeen('renamed@example.com', {
        displayName: 'Old Name',
        seenAt: new Date(now - 60_000).toISOString(),
      }),
    );
    await backend.publish(personSeen('after.renamed@example.com'));
    await backend.waitForUser('after.renamed_example.com');
    const user = await backend.waitForUser('renamed_example.com');
    expect(user.spec?.profile).toEqual({
      email: 'renamed@example.com',
      displayName: 'New Name',
    });
  });

  it('does not duplicate a person the catalog already has a User for', async () => {
    // The fixture's User grace has email Grace.Hopper@example.com.
    await backend.publish(personSeen('grace.hopper@example.com'));
    // A later person's User appearing shows the catalog has taken in what came before.
    await backend.publish(personSeen('after.grace@example.com'));
    await backend.waitForUser('after.grace_example.com');
    expect(await backend.getUser('grace.hopper_example.com')).toBeUndefined();
    expect(backend.logs).toContainEqual(
      logRecord(
        'debug',
        expect.stringContaining(
          'Not provisioning user:default/grace.hopper_example.com',
        ),
      ),
    );
  });

  it('hands a provisioned person over to a User kept elsewhere as soon as the catalog processes it', async () => {
    await backend.publish(personSeen('later.listed@example.com'));
    await backend.waitForUser('later.listed_example.com');
    // Someone adds them later, as an org.yaml or an identity provider would.
    await backend.addUserByHand({
      name: 'listed-by-hand',
      email: 'Later.Listed@example.com',
    });

    // No sync: the catalog processing the new User hands the provisioned one over.
    await backend.waitForNoUser('later.listed_example.com');
    expect(backend.logs).toContainEqual(
      logRecord(
        'info',
        'Handed user:default/later.listed_example.com over to user:default/listed-by-hand, which has the same email',
      ),
    );
  });

  it('ignores a malformed event, logging it without its contents, and keeps going', async () => {
    const malformed = [
      { version: 1, email: 'leaky.secret@example.com' },
      'leaky.secret@example.com',
      null,
      personSeen('no-at-sign'),
      { ...personSeen('leaky.secret@example.com'), extra: 'field' },
    ];
    for (const payload of malformed) {
      await expect(backend.publish(payload)).resolves.toBeUndefined();
    }
    const warnings = backend.logs.filter(
      log =>
        log.level === 'warn' &&
        log.message.startsWith('Ignored an invalid event'),
    );
    expect(warnings).toHaveLength(malformed.length);
    expect(warnings[0].message).toBe(
      'Ignored an invalid event on topic cloudflare-access.person-seen',
    );
    const catalogLogs = backend.logs.filter(
      log => log.meta.plugin === 'catalog',
    );
    expect(JSON.stringify(catalogLogs)).not.toContain('leaky.secret');
    expect(await backend.getUser('leaky.secret_example.com')).toBeUndefined();

    await backend.publish(personSeen('still.running@example.com'));
    await backend.waitForUser('still.running_example.com');
  });

  it('keeps provisioned Users across a restart, with no new event', async () => {
    await backend.publish(personSeen('restart@example.com'));
    await backend.waitForUser('restart_example.com');
    await backend.restart();
    // The start re-emitted everyone from the table as the provider's whole
    // set, so a User missing from the table would already be gone.
    const users = [
      await backend.waitForUser('restart_example.com'),
      await backend.waitForUser('jane.doe_example.com'),
    ];
    expect(users.map(user => user.spec?.profile)).toEqual([
      { email: 'restart@example.com' },
      { email: 'Jane.Doe@example.com', displayName: 'Jane Doe' },
    ]);
  }, 60_000);

  it('removes the User of someone not seen within removeAfter at the next sync', async () => {
    await backend.publish(personSeen('leaving@example.com'));
    await backend.waitForUser('leaving_example.com');

    // Seen at the moved time: stays.
    await backend.syncLater(31 * DAY_MS, 'staying@example.com');

    await backend.waitForNoUser('leaving_example.com');
    await backend.waitForNoUser('jane.doe_example.com');
    expect(await backend.getUser('staying_example.com')).toBeDefined();
    expect(await backend.getUser('grace')).toBeDefined();
    expect(backend.logs).toContainEqual(
      logRecord(
        'info',
        expect.stringMatching(
          /^Synced 1 provisioned Users; removed \d+ not seen within removeAfter and 0 now kept elsewhere$/,
        ),
      ),
    );
  });
});
