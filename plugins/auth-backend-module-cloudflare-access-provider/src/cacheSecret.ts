/** The secret that authenticates this module's shared cache entries: made once, kept in the auth plugin's database. */
import { randomBytes } from 'node:crypto';
import { DatabaseService } from '@backstage/backend-plugin-api';

const TABLE = 'cfaccess_secrets';
const CACHE_SECRET = 'shared-cache-mac';

/**
 * The key every replica signs its shared cache entries with. The first
 * replica to start makes it (32 random bytes) in the auth plugin's database;
 * the others, and restarts, read the same one. A Redis writer does not have
 * it, so nothing it writes passes for an entry of ours.
 */
export async function loadCacheSecret(
  database: DatabaseService,
): Promise<Buffer> {
  const knex = await database.getClient();
  if (!(await knex.schema.hasTable(TABLE))) {
    try {
      await knex.schema.createTable(TABLE, table => {
        table.string('name').primary();
        table.text('value').notNullable();
      });
    } catch (error) {
      // Another replica created it at the same moment.
      if (!(await knex.schema.hasTable(TABLE))) {
        throw error;
      }
    }
  }
  await knex(TABLE)
    .insert({ name: CACHE_SECRET, value: randomBytes(32).toString('base64') })
    .onConflict('name')
    .ignore();
  const row = await knex(TABLE).where({ name: CACHE_SECRET }).first('value');
  return Buffer.from(row.value, 'base64');
}
