/** Provisioning as an attacker would try it: names, Groups and memberships that are not theirs, forged events, floods. */
import { provisionedGroupEntityName } from '@cfaccess/plugin-cloudflare-access-node';
import { useProvisioningBackend } from './__testUtils__/provisioningFixture';
import {
  logRecord,
  personSeen,
  PROVISIONING_AUTH_CONFIG,
} from './__testUtils__/testBackend';

jest.setTimeout(30_000);

/** A person seen in these Access groups (id: name), each to be provisioned as a Group. */
const seenInGroups = (email: string, groups: Record<string, string>) =>
  personSeen(email, {
    accessGroupIds: Object.keys(groups),
    provisionedGroups: Object.entries(groups).map(([id, name]) => ({
      id,
      name,
    })),
  });

/** The ref of the Group provisioned for this Access group. */
const provisionedGroupRef = (id: string) =>
  `group:default/${provisionedGroupEntityName(id)}`;

describe('the person-seen event is a claim, checked', () => {
  const backend = useProvisioningBackend();

  /** Publishes a marker person after `publish` and waits for them: what came before has been handled. */
  async function settled(marker: string) {
    await backend.publish(personSeen(`${marker}@example.com`));
    await backend.waitForUser(`${marker}_example.com`);
  }

  it('never provisions an email outside the allowed domains', async () => {
    await backend.publish(personSeen('mallory@evil.example'));
    await backend.publish(personSeen('x@\u212Aexample.com'));
    await settled('after-domains');
    expect(await backend.getUser('mallory_evil.example')).toBeUndefined();
    expect(
      backend.logs.filter(log =>
        log.message.includes('for an email outside the allowedDomains'),
      ),
    ).toHaveLength(2);
  });

  it('keeps nothing from an event the auth module did not sign, whoever publishes it', async () => {
    const forged = personSeen('forged.admin@example.com', {
      accessGroupIds: ['g-sre'],
      memberOf: ['group:ops/sre'],
    });
    // Anyone on the bus: no signature, a made-up one, or a real one over other fields.
    await backend.publishForged(forged);
    await backend.publishForged({ ...forged, signature: 'A'.repeat(43) });
    const signedOther = await backend.signed(personSeen('other@example.com'));
    await backend.publishForged({
      ...forged,
      signature: signedOther.signature,
    });
    // A genuine event of this person, its memberships changed on the way.
    const genuine = await backend.signed(
      personSeen('forged.admin@example.com'),
    );
    await backend.publishForged({ ...genuine, memberOf: ['group:ops/sre'] });
    await settled('after-forged');
    expect(await backend.getUser('forged.admin_example.com')).toBeUndefined();
    const warnings = backend.logs.filter(log =>
      log.message.includes("that this backend's auth module did not sign"),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain(
      'set auth.providers.cfaccess.personSeenEventSecret to the same secret in both',
    );
    // The same event, as the auth module signs it, is kept.
    await backend.publishForged(genuine);
    await backend.waitForUser('forged.admin_example.com');
  });

  it('keeps only the memberships that accessGroups maps the claimed Access groups to', async () => {
    await backend.publish(
      personSeen('forged@example.com', {
        accessGroupIds: ['g-sre'],
        memberOf: ['group:default/platform-admins', 'group:ops/sre'],
        provisionedGroups: [{ id: 'not-a-group-of-theirs', name: 'x' }],
      }),
    );
    const user = await backend.waitForUser('forged_example.com');
    expect(user.spec?.memberOf).toEqual(['group:ops/sre']);
    expect(
      await backend.getGroup(
        provisionedGroupEntityName('not-a-group-of-theirs'),
      ),
    ).toBeUndefined();
  });

  it('never takes a name another source holds (a Microsoft Graph style User)', async () => {
    // Microsoft Graph's provider names pat.o'brien@example.com pat.o_brien_example.com.
    await backend.addUserByHand({
      name: 'pat.o_brien_example.com',
      email: "pat.o'brien@example.com",
      memberOf: ['platform'],
    });
    await backend.publish(personSeen('pat.o_brien@example.com'));
    await settled('after-pat');
    const kept = await backend.getUser('pat.o_brien_example.com');
    expect(kept?.spec?.profile).toEqual({ email: "pat.o'brien@example.com" });
    expect(
      kept?.metadata.annotations?.['backstage.io/managed-by-location'],
    ).toBe('test:operator');
    expect(backend.logs).toContainEqual(
      logRecord(
        'warn',
        'Not provisioning user:default/pat.o_brien_example.com: another source keeps an entity of that name',
      ),
    );
  });

  it('never joins a Group of another source named like a provisioned Group', async () => {
    const name = provisionedGroupEntityName('captured');
    await backend.addKeptByOperator({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name },
      spec: { type: 'team', children: [] },
    });
    await backend.publish(
      seenInGroups('joiner@example.com', {
        captured: 'Captured',
        'own-group': 'Own',
      }),
    );
    const user = await backend.waitForUser('joiner_example.com');
    expect(user.spec?.memberOf).toEqual([provisionedGroupRef('own-group')]);
    const group = await backend.getGroup(name);
    expect(
      group?.metadata.annotations?.['backstage.io/managed-by-location'],
    ).toBe('test:operator');
  });

  it('does not yield to a User registered through the catalog API', async () => {
    await backend.publish(
      personSeen('victim@example.com', {
        accessGroupIds: ['g-sre'],
        memberOf: ['group:ops/sre'],
      }),
    );
    await backend.waitForUser('victim_example.com');
    await backend.registerLocationWithUser({
      name: 'victim-by-api',
      email: 'victim@example.com',
      memberOf: ['platform-admins'],
    });
    await backend.runSync();
    await backend.publish(personSeen('victim@example.com'));
    await settled('after-victim');
    expect(await backend.getUser('victim_example.com')).toBeDefined();
    expect(backend.logs).toContainEqual(
      logRecord('info', expect.stringMatching(/and 0 now kept elsewhere$/)),
    );
  });
});

describe('provisioning is bounded', () => {
  const backend = useProvisioningBackend(() => {
    const auth = structuredClone(PROVISIONING_AUTH_CONFIG) as any;
    Object.assign(auth.providers.cfaccess.signIn.resolvers[0], {
      maxProvisionedUsers: 2,
      maxProvisionedGroupsPerUser: 1,
    });
    return { config: { auth } };
  });

  it('provisions no new person past maxProvisionedUsers, warns once, and keeps those provisioned', async () => {
    await backend.publish(seenInGroups('one@example.com', { a: 'A', b: 'B' }));
    const one = await backend.waitForUser('one_example.com');
    // maxProvisionedGroupsPerUser: the first by id only.
    expect(one.spec?.memberOf).toEqual([provisionedGroupRef('a')]);
    await backend.publish(personSeen('two@example.com'));
    await backend.waitForUser('two_example.com');
    for (const flood of ['x+1', 'x+2', 'x+3']) {
      await backend.publish(personSeen(`${flood}@example.com`));
    }
    // Someone provisioned before the bound is still kept up to date.
    await backend.publish(
      personSeen('one@example.com', { displayName: 'One' }),
    );
    await backend.waitForUser('one_example.com');
    const warnings = backend.logs.filter(log =>
      log.message.includes('maxProvisionedUsers'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0].level).toBe('warn');
    const res = await fetch(
      `${backend.url}/api/catalog/entities/by-query?filter=metadata.annotations.backstage.io/managed-by-location=cloudflare-access:provisioning,kind=user`,
    );
    const body = await res.json();
    expect(body.items.map((user: any) => user.metadata.name).sort()).toEqual([
      'one_example.com',
      'two_example.com',
    ]);
  });
});
