/** The store of provisioned people on a real SQLite database: what it keeps, finds, counts and removes. */
import knexFactory, { Knex } from 'knex';
import { ProvisionedPersonStore } from './store';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('ProvisionedPersonStore', () => {
  let knex: Knex;
  let store: ProvisionedPersonStore;

  beforeEach(async () => {
    knex = knexFactory({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    store = await ProvisionedPersonStore.create({ knex });
  });

  afterEach(() => knex.destroy());

  const person = (email: string) => ({
    entityName: email.replace('@', '_'),
    email,
    accessUserId: `access-id-of-${email}`,
    memberOf: [],
    groups: [],
  });

  it('removes by when a person was last seen, not first seen', async () => {
    const now = new Date('2025-06-01T00:00:00Z');
    const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
    // First seen long ago, and seen again yesterday.
    await store.recordSighting(person('regular@example.com'), daysAgo(200));
    await store.recordSighting(person('regular@example.com'), daysAgo(1));
    // Seen once, long ago.
    await store.recordSighting(person('gone@example.com'), daysAgo(100));

    expect(await store.removeSeenBefore(daysAgo(30))).toBe(1);
    const left = await store.list();
    expect(left.map(p => p.email)).toEqual(['regular@example.com']);
    expect(left[0].firstSeen).toEqual(daysAgo(200));
    expect(left[0].lastSeen).toEqual(daysAgo(1));
  });
  it('keeps every field of a person, a missing display name as missing', async () => {
    const seenAt = new Date('2025-06-01T00:00:00Z');
    const full = {
      ...person('ada@example.com'),
      displayName: 'Ada',
      memberOf: ['group:default/team-a'],
      groups: [{ id: 'g-1', name: 'One', email: 'one@example.com' }],
    };
    expect(await store.recordSighting(full, seenAt)).toEqual({
      ...full,
      firstSeen: seenAt,
      lastSeen: seenAt,
    });
    const plain = await store.recordSighting(person('bo@example.com'), seenAt);
    expect(plain?.displayName).toBeUndefined();
    expect((await store.list()).map(p => p.email).sort()).toEqual([
      'ada@example.com',
      'bo@example.com',
    ]);
  });

  it('finds, counts and removes people', async () => {
    const seenAt = new Date('2025-06-01T00:00:00Z');
    expect(await store.count()).toBe(0);
    await store.recordSighting(person('Ada@Example.com'), seenAt);
    await store.recordSighting(person('kim@example.com'), seenAt);
    expect(await store.count()).toBe(2);
    expect(await store.has('Ada_Example.com')).toBe(true);
    expect(await store.has('nobody_example.com')).toBe(false);
    // Case folded in ASCII only: the Kelvin sign is not a k.
    expect(
      (await store.findByEmail('ada@EXAMPLE.com')).map(p => p.entityName),
    ).toEqual(['Ada_Example.com']);
    expect(await store.findByEmail('\u212Aim@example.com')).toEqual([]);
    expect(await store.remove([])).toBe(0);
    expect(await store.remove(['Ada_Example.com', 'nobody_example.com'])).toBe(
      1,
    );
    expect(await store.count()).toBe(1);
    expect(await store.has('Ada_Example.com')).toBe(false);
  });
});
