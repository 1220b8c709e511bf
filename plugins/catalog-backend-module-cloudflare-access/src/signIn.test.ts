/** Both modules in one real backend: a sign-in through a real emulator token provisions the person. */
import { JsonObject } from '@backstage/config';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import { decodeJwt } from 'jose';
import {
  useProvisioningBackend,
  withAuthModule,
} from './__testUtils__/provisioningFixture';

jest.setTimeout(30_000);

describe('signing in through Cloudflare Access provisions the person', () => {
  let emulator: AccessEmulator;

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
  });

  const options = (provider: JsonObject = {}) =>
    withAuthModule(emulator.url, {
      // Every refresh asks the catalog, so a User added mid-test is seen at once.
      signInCacheDuration: 0,
      ...provider,
      accessGroups: [
        { id: 'g-platform', entityRef: 'group:default/platform' },
        { id: 'g-missing', entityRef: 'group:default/missing' },
      ],
      signIn: {
        resolvers: [
          // Never signs anyone in as a provisioned User: it does not provision.
          { resolver: 'idMatchingUserEntityAnnotation' },
          {
            resolver: 'emailMatchingUserEntityProfileEmail',
            allowedDomains: ['example.com'],
            provisionUsers: true,
            provisionGroups: true,
          },
        ],
      },
    });
  const backend = useProvisioningBackend(options);

  afterAll(() => emulator?.close());

  async function refresh(email: string, groups?: string[]) {
    const { token } = await emulator.signIn(email, groups && { groups });
    const res = await fetch(`${backend.url}/api/auth/cfaccess/refresh`, {
      headers: { 'cf-access-jwt-assertion': token },
    });
    return { status: res.status, body: await res.json() };
  }

  /**
   * Signs `name`@example.com in as their provisioned User, lets `addUser` add
   * a User of the team platform with their email, and signs them in again.
   */
  async function signInAgainAfter(
    name: string,
    addUser: (user: {
      name: string;
      email: string;
      memberOf: string[];
    }) => Promise<void>,
    otherName: string,
  ) {
    const email = `${name}@example.com`;
    const first = await refresh(email);
    expect(first.body.backstageIdentity.identity.userEntityRef).toBe(
      `user:default/${name}_example.com`,
    );
    await backend.waitForUser(`${name}_example.com`);
    await addUser({ name: otherName, email, memberOf: ['platform'] });
    const second = await refresh(email);
    expect(second.status).toBe(200);
    return second.body.backstageIdentity.identity;
  }

  /** The identity of a person signed in as `ref`, owning nothing else. */
  const ownUserOnly = (ref: string) => ({
    type: 'user',
    userEntityRef: ref,
    ownershipEntityRefs: [ref],
  });

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

    await backend.restart();
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
    expect(body.error.reason).toBe('domain');
    await backend.runSync();
    expect(await backend.getUser('stranger_elsewhere.example')).toBeUndefined();
    expect(backend.logs).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/^Synced 1 provisioned Users/),
      }),
    );
  });

  it('signs a provisioned person in as the User kept elsewhere once there is one', async () => {
    const identity = await signInAgainAfter(
      'late',
      user => backend.addUserByHand(user),
      'late-by-hand',
    );
    // Two Users have the email until the next sync: the one kept elsewhere wins.
    expect(identity.userEntityRef).toBe('user:default/late-by-hand');
    await backend.runSync();
    await backend.waitForNoUser('late_example.com');
  });

  it('never yields to a User registered through the catalog API with the person’s email and a team', async () => {
    const identity = await signInAgainAfter(
      'target',
      // Anyone signed in can do this where User is in the global rules and the permission framework is off.
      user => backend.registerLocationWithUser(user),
      'target-by-api',
    );
    expect(identity).toEqual(ownUserOnly('user:default/target_example.com'));
    await backend.runSync();
    expect(await backend.getUser('target_example.com')).toBeDefined();
  });

  it('takes a provisioned person’s ownership from their live Access groups, not the catalog’s memberOf', async () => {
    const member = await refresh('mover@example.com', ['Movers']);
    const owned: string[] =
      member.body.backstageIdentity.identity.ownershipEntityRefs;
    expect(owned).toHaveLength(2);
    const moversGroup = owned[1];
    expect(moversGroup).toMatch(/^group:default\/access-group-/);
    await backend.waitForGroup(moversGroup.split('/')[1]);
    const user = await backend.waitForUser('mover_example.com');
    expect(user.spec?.memberOf).toEqual([moversGroup]);

    // Left the Access group: the next Access session owns no more than that, though the catalog still says member.
    const left = await refresh('mover@example.com', []);
    expect(left.body.backstageIdentity.identity.ownershipEntityRefs).toEqual([
      'user:default/mover_example.com',
    ]);
  });

  it('never signs anyone in as a User that a forged event paired with their Access user id', async () => {
    const { token } = await emulator.signIn('attacker@example.com');
    const attackerId = decodeJwt(token).sub!;
    // Forged: the victim's email with the attacker's Access user id.
    await backend.publish({
      version: 1,
      email: 'victim@example.com',
      accessUserId: attackerId,
      accessGroupIds: ['g-platform'],
      memberOf: ['group:default/platform'],
      seenAt: new Date().toISOString(),
    });
    await backend.waitForUser('victim_example.com');

    const res = await refresh('attacker@example.com');
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity).toEqual(
      ownUserOnly('user:default/attacker_example.com'),
    );
  });

  it('signs a person in as their own User within sessionCheckInterval of the catalog having it, whatever the reuse', async () => {
    await backend.restart(
      options({ signInCacheDuration: '60s', sessionCheckInterval: '1s' }),
    );
    try {
      // As in the first seconds after a start: their User is not read yet.
      const { token } = await emulator.signIn('early@example.com');
      const refreshWith = async () => {
        const res = await fetch(`${backend.url}/api/auth/cfaccess/refresh`, {
          headers: { 'cf-access-jwt-assertion': token },
        });
        return (await res.json()).backstageIdentity?.identity?.userEntityRef;
      };
      expect(await refreshWith()).toBe('user:default/early_example.com');
      await backend.addUserByHand({
        name: 'early',
        email: 'early@example.com',
      });
      // The duplicate leaves the catalog at once...
      await backend.waitForNoUser('early_example.com');
      // ...and the same Access session is themselves again after sessionCheckInterval, not signInCacheDuration.
      let signedInAs: string | undefined;
      for (let i = 0; i < 50 && signedInAs !== 'user:default/early'; i++) {
        await new Promise(r => setTimeout(r, 100));
        signedInAs = await refreshWith();
      }
      expect(signedInAs).toBe('user:default/early');
    } finally {
      await backend.restart();
    }
  }, 60_000);
});
