/** The provisioned people in the catalog's database: the one home of the table, its migrations and its queries. */
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import {
  asciiLowerCase,
  CloudflareAccessProvisionedGroup,
} from '@cfaccess/plugin-cloudflare-access-node';
import { Knex } from 'knex';

const TABLE = 'cfaccess_provisioned_users';
// Our own migrations table, so the catalog's `knex_migrations` is never touched.
const MIGRATIONS_TABLE = 'cfaccess_provisioning_knex_migrations';

/** A person provisioned as a User, as the store keeps them. */
export type ProvisionedPerson = {
  entityName: string;
  email: string;
  accessUserId: string;
  displayName?: string;
  /** Group entity refs, stringified and deduplicated. */
  memberOf: string[];
  /** Access groups kept as Groups for this person (the resolver's provisionGroups). */
  groups: CloudflareAccessProvisionedGroup[];
  firstSeen: Date;
  lastSeen: Date;
};

type Row = {
  entity_name: string;
  email: string;
  access_user_id: string;
  display_name: string | null;
  member_of: string;
  provisioned_groups: string;
  // A Date on PostgreSQL, milliseconds on SQLite (knex binds Dates as numbers there).
  first_seen: Date | number | string;
  last_seen: Date | number | string;
};

function fromRow(row: Row): ProvisionedPerson {
  return {
    entityName: row.entity_name,
    email: row.email,
    accessUserId: row.access_user_id,
    displayName: row.display_name ?? undefined,
    memberOf: JSON.parse(row.member_of),
    groups: JSON.parse(row.provisioned_groups),
    firstSeen: new Date(row.first_seen),
    lastSeen: new Date(row.last_seen),
  };
}

/** The table of provisioned people in the catalog's database. */
export class ProvisionedPersonStore {
  /** Brings the table up to date (unless migrations are skipped) and opens the store. */
  static async create(options: {
    knex: Knex;
    skipMigrations?: boolean;
  }): Promise<ProvisionedPersonStore> {
    if (!options.skipMigrations) {
      await options.knex.migrate.latest({
        directory: resolvePackagePath(
          '@cfaccess/plugin-catalog-backend-module-cloudflare-access',
          'migrations',
        ),
        tableName: MIGRATIONS_TABLE,
      });
    }
    return new ProvisionedPersonStore(options.knex);
  }

  private constructor(private readonly knex: Knex) {}

  /**
   * Records that a person was seen: inserts them, or updates them when this
   * sighting is not older than the last one (replicas and a bus may deliver
   * out of order). One statement, so replicas racing on one person are safe.
   * Returns the person as stored, or undefined when a newer sighting won.
   */
  async recordSighting(
    person: Omit<ProvisionedPerson, 'firstSeen' | 'lastSeen'>,
    seenAt: Date,
  ): Promise<ProvisionedPerson | undefined> {
    const rows: Row[] = await this.knex<Row>(TABLE)
      .insert({
        entity_name: person.entityName,
        email: person.email,
        access_user_id: person.accessUserId,
        display_name: person.displayName ?? null,
        member_of: JSON.stringify(person.memberOf),
        provisioned_groups: JSON.stringify(person.groups),
        first_seen: seenAt,
        last_seen: seenAt,
      })
      .onConflict('entity_name')
      .merge([
        'email',
        'access_user_id',
        'display_name',
        'member_of',
        'provisioned_groups',
        'last_seen',
      ])
      .where(`${TABLE}.last_seen`, '<=', seenAt)
      .returning('*');
    return rows.length ? fromRow(rows[0]) : undefined;
  }

  /** Deletes everyone last seen before `cutoff`; returns how many. */
  async removeSeenBefore(cutoff: Date): Promise<number> {
    return this.knex(TABLE).where('last_seen', '<', cutoff).delete();
  }

  /** Deletes these people; returns how many. */
  async remove(entityNames: string[]): Promise<number> {
    return entityNames.length
      ? this.knex(TABLE).whereIn('entity_name', entityNames).delete()
      : 0;
  }

  /** The people provisioned with this email, case folded in ASCII (at most one, by the naming rule). */
  async findByEmail(email: string): Promise<ProvisionedPerson[]> {
    const rows: Row[] = await this.knex<Row>(TABLE).whereRaw(
      'lower(email) = ?',
      [asciiLowerCase(email)],
    );
    return rows.map(fromRow);
  }

  /** Whether this person is provisioned. */
  async has(entityName: string): Promise<boolean> {
    const row = await this.knex(TABLE)
      .where('entity_name', entityName)
      .first('entity_name');
    return row !== undefined;
  }

  /** How many people are provisioned. */
  async count(): Promise<number> {
    const [{ count }] = await this.knex(TABLE).count({ count: '*' });
    return Number(count);
  }

  /** Everyone provisioned. */
  async list(): Promise<ProvisionedPerson[]> {
    const rows: Row[] = await this.knex<Row>(TABLE).select('*');
    return rows.map(fromRow);
  }
}
