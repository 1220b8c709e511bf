/** Both modules in one real backend: a sign-in through a real emulator token provisions the person. */
import authPlugin from '@backstage/plugin-auth-backend';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import cfaccessModule from '@cfaccess/plugin-auth-backend-module-cloudflare-access-provider';
import { sqliteFileDatabase, TestDatabase } from './__testUtils__/databases';
import {
  ProvisioningBackend,
  startProvisioningBackend,
} from './__testUtils__/testBackend';

jest.setTimeout(30_000);

describe('signing in through Cloudflare Access provisions the person', () => {
  let emulator: AccessEmulator;
  let database: TestDatabase;
  let backend: ProvisioningBackend;

  const start = () =>
    startProvisioningBackend({
      database: database.config,
      clock: () => new Date(),
      features: [authPlugin, cfaccessModule],
      config: {
        app: { baseUrl: 'http://localhost:3000' },
        auth: {
          providers: {
            cfaccess: {
              teamDomain: emulator.url,
              audience: 'aud',
              // Every refresh asks the catalog, so a User added mid-test is seen at once.
              signInCacheDuration: 0,
              accessGroups: [
                { id: 'g-platform', entityRef: 'group:default/platform' },
                { id: 'g-missing', entityRef: 'group:default/missing' },
              ],
              signIn: {
                resolvers: [
                  {
                    resolver: 'emailMatchingUserEntityProfileEmail',
                    allowedDomains: ['example.com'],
                    provisionUsers: true,
                    provisionGroups: true,
                  },
                ],
              },
            },
          },
        },
      },
    });

  async function refresh(email: string) {
    const { token } = await emulator.signIn(email);
    const res = await fetch(`${backend.url}/api/auth/cfaccess/refresh`, {
      headers: { 'cf-access-jwt-assertion': token },
    });
    return { status: res.status, body: await res.json() };
  }

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      users: [
        {
          email: 'newbie@example.com',
          name: 'New Bie',
          groups: [
            { id: 'g-platform', name: 'Platform' },
            { id: 'g-missing', name: 'Missing' },
            { id: 'g-unmapped', name: 'admins' },
          ],
        },
      ],
    });
    database = await sqliteFileDatabase();
    backend = await start();
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
    await database?.dispose();
    await emulator?.close();
  }, 60_000);

  it('signs an unknown person in as their new User at once; the User and its memberOf follow; a restart keeps them', async () => {
    const { status, body } = await refresh('newbie@example.com');
    expect(status).toBe(200);
    expect(body.backstageIdentity.identity).toEqual({
      type: 'user',
      userEntityRef: 'user:default/newbie_example.com',
      ownershipEntityRefs: [
        'user:default/newbie_example.com',
        'group:default/platform',
        // provisionGroups: the unmapped group, by id; the mapped one missing from the catalog is left out.
        'group:default/access-group-g-unmapped',
      ],
    });

    const user = await backend.waitForUser('newbie_example.com');
    expect(user.spec).toEqual({
      profile: { email: 'newbie@example.com', displayName: 'New Bie' },
      memberOf: expect.arrayContaining([
        'group:default/platform',
        'group:default/access-group-g-unmapped',
      ]),
    });
    expect(user.spec?.memberOf).toHaveLength(2);
    expect(user.relations).toContainEqual({
      type: 'memberOf',
      targetRef: 'group:default/platform',
    });
    const group = await backend.waitForGroup('access-group-g-unmapped');
    expect(group.metadata.title).toBe('admins');

    await backend.stop();
    backend = await start();
    await backend.waitForUser('newbie_example.com');
    // Now found in the catalog: the same User, with the catalog's ownership.
    const again = await refresh('newbie@example.com');
    expect(again.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/newbie_example.com',
    );
    expect(again.body.backstageIdentity.identity.ownershipEntityRefs).toContain(
      'group:default/platform',
    );
  }, 60_000);

  it('refuses a person of a domain not allowed, and creates nothing', async () => {
    const { status, body } = await refresh('stranger@elsewhere.example');
    expect(status).toBe(403);
    expect(body.error.message).toContain('not in an allowed email domain');
    await backend.runSync();
    expect(await backend.getUser('stranger_elsewhere.example')).toBeUndefined();
    expect(backend.logs).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/^Synced 1 provisioned Users/),
      }),
    );
  });

  it('signs a provisioned person in as the User kept elsewhere once there is one', async () => {
    const first = await refresh('late@example.com');
    expect(first.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/late_example.com',
    );
    await backend.waitForUser('late_example.com');
    await backend.addUserByHand({
      name: 'late-by-hand',
      email: 'late@example.com',
      memberOf: ['platform'],
    });

    // Two Users have the email until the next sync: the one kept elsewhere wins.
    const second = await refresh('late@example.com');
    expect(second.status).toBe(200);
    expect(second.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/late-by-hand',
    );
    await backend.runSync();
    await backend.waitForNoUser('late_example.com');
  });
});
