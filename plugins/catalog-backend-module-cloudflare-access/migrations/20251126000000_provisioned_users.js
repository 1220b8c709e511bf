/** Creates the table of the people provisioned as Users: one row per User entity. */
// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('cfaccess_provisioned_users', table => {
    table.comment(
      'People the Cloudflare Access auth module signed in as provisioned Users',
    );
    table
      .string('entity_name', 63)
      .primary()
      .notNullable()
      .comment('The User entity name: provisionedUserEntityName(email)');
    table.string('email', 320).notNullable().comment('The email as last seen');
    table
      .string('access_user_id', 200)
      .notNullable()
      .comment('The Access user id (the token sub)');
    table
      .string('display_name', 200)
      .nullable()
      .comment('The name from Access get-identity, when it gave one');
    table
      .text('member_of')
      .notNullable()
      .comment('JSON array of the Group entity refs the User is a member of');
    table
      .text('provisioned_groups')
      .notNullable()
      .defaultTo('[]')
      .comment(
        'JSON array of the Access groups kept as Groups for this person ({ id, name, email })',
      );
    table
      .timestamp('first_seen', { useTz: true })
      .notNullable()
      .comment('When the person was first seen');
    table
      .timestamp('last_seen', { useTz: true })
      .notNullable()
      .index()
      .comment(
        'When the person was last seen; rows seen too long ago are removed',
      );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('cfaccess_provisioned_users');
};
