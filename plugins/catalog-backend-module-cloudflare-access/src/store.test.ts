/** The store of provisioned people on a real SQLite database: who goes when people are removed. */
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
});
