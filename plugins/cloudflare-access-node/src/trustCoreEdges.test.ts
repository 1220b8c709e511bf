/** The edges of the shared rules that mutation testing found unpinned: exact names, bounds, published strings, every branch of the policy. */
import { ConfigReader, JsonObject } from '@backstage/config';
import {
  accessGroupEntryKey,
  accessGroupIdKey,
  CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION,
  CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
  CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
  emailDomain,
  isCloudflareAccessProvisioned,
  isEmailInDomains,
  parseCloudflareAccessPersonSeenEvent,
  provisionedGroupEntityName,
  provisionedGroupEntityRef,
  provisionedUserEntityName,
  readCloudflareAccessGroups,
  readCloudflareAccessProvisioningPolicy,
  userSourceOf,
} from '.';

describe('provisioned names, exactly', () => {
  it.each([
    ['a+b@example.com', 'a-b-example.com-7b97e2cd5da4e9d5'],
    // Leading and trailing characters that are not letters or digits are cut.
    ['__x+y__@Example.com', 'x-y---example.com-3d339c4349fd9776'],
  ])(
    'hashes an email with other characters into a pinned name: %s',
    (email, name) => {
      expect(provisionedUserEntityName(email)).toBe(name);
    },
  );

  it('keeps a readable name of exactly 63 characters, hashes one of 64', () => {
    const at63 = `${'a'.repeat(63 - '_example.com'.length)}@example.com`;
    expect(provisionedUserEntityName(at63)).toHaveLength(63);
    expect(provisionedUserEntityName(at63)).toContain('_');
    const at64 = `${'a'.repeat(64 - '_example.com'.length)}@example.com`;
    expect(provisionedUserEntityName(at64)).not.toContain('_');
  });

  it('never gives a readable name that ends in a dot', () => {
    expect(provisionedUserEntityName('jane@example.com.')).not.toBe(
      'jane_example.com.',
    );
  });

  it('keeps a group id of exactly 50 characters readable, hashes one of 51', () => {
    const id50 = 'a'.repeat(50);
    expect(provisionedGroupEntityName(id50)).toBe(`access-group-${id50}`);
    expect(provisionedGroupEntityName(`${id50}a`)).toMatch(
      /^access-group\.[0-9a-f]{16}$/,
    );
    expect(provisionedGroupEntityRef('admins')).toBe(
      'group:default/access-group-admins',
    );
    expect(provisionedGroupEntityName('Admins')).toBe(
      'access-group.8273a67b55a7d7da',
    );
  });
});

describe('published names', () => {
  it('keep their values: other packages and stored entities depend on them', () => {
    expect(CLOUDFLARE_ACCESS_USER_ID_ANNOTATION).toBe(
      'cloudflare.com/access-user-id',
    );
    expect(CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION).toBe(
      'cloudflare.com/access-group-id',
    );
    expect(CLOUDFLARE_ACCESS_PROVISIONING_LOCATION).toBe(
      'cloudflare-access:provisioning',
    );
    expect(CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC).toBe(
      'cloudflare-access.person-seen',
    );
  });
});

describe('domains', () => {
  it('matches any of several allowed domains, and none of an empty list', () => {
    expect(isEmailInDomains('x@b.org', ['a.com', 'b.org'])).toBe(true);
    expect(isEmailInDomains('x@a.com', [])).toBe(false);
  });

  it('takes one-letter labels, refuses over-long names and labels', () => {
    expect(emailDomain('x@a.b.c')).toBe('a.b.c');
    expect(emailDomain('x@ab.c')).toBe('ab.c');
    expect(emailDomain('x@a.bc.def.ghij')).toBe('a.bc.def.ghij');
    expect(emailDomain(`x@${'a'.repeat(64)}.com`)).toBeUndefined();
    const long = Array.from({ length: 64 }, () => 'abc').join('.');
    expect(long.length).toBeGreaterThan(253);
    expect(emailDomain(`x@${long}`)).toBeUndefined();
  });

  it('folds the case of a UUID-like group id only when all of it is hex', () => {
    expect(accessGroupIdKey('Xabc')).toBe('Xabc');
    expect(accessGroupIdKey('ABC-Admins')).toBe('ABC-Admins');
    expect(accessGroupEntryKey('Admins')).toBe('Admins');
    expect(accessGroupEntryKey('')).toBe('');
  });
});

describe('the person-seen event with provisioned groups', () => {
  const event = {
    version: 1,
    email: 'jane@example.com',
    accessUserId: 'u-1',
    accessGroupIds: ['g-1'],
    memberOf: [],
    provisionedGroups: [{ id: 'g-1', name: 'One', email: 'one@example.com' }],
    seenAt: '2026-11-26T04:00:00.000Z',
  };

  it('reads the groups', () => {
    expect(parseCloudflareAccessPersonSeenEvent(event)).toEqual(event);
  });

  it.each([
    ['an empty group id', [{ id: '', name: 'x' }]],
    ['a group id too long', [{ id: 'a'.repeat(201), name: 'x' }]],
    ['a group name too long', [{ id: 'g', name: 'x'.repeat(201) }]],
    [
      'a group email too long',
      [{ id: 'g', name: 'x', email: 'x'.repeat(321) }],
    ],
    ['a group with more fields', [{ id: 'g', name: 'x', admin: true }]],
    [
      'too many groups',
      Array.from({ length: 1001 }, (_, i) => ({ id: `g${i}`, name: '' })),
    ],
  ])('is undefined for %s', (_name, provisionedGroups) => {
    expect(
      parseCloudflareAccessPersonSeenEvent({ ...event, provisionedGroups }),
    ).toBeUndefined();
  });
});

describe('provenance', () => {
  const user = (annotations: Record<string, string>) => ({
    kind: 'User',
    metadata: { name: 'jane', annotations },
  });

  it('tells provisioned, registered and the operator’s Users apart', async () => {
    const provisioned = user({
      'backstage.io/managed-by-location':
        CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
    });
    expect(isCloudflareAccessProvisioned(provisioned)).toBe(true);
    const asked: string[] = [];
    const registeredIf = (answer: unknown) => async (ref: string) => {
      asked.push(ref);
      return answer;
    };
    expect(await userSourceOf(provisioned, registeredIf({ id: 'l' }))).toBe(
      'provisioned',
    );
    expect(asked).toEqual([]);
    const other = user({ 'backstage.io/managed-by-location': 'url:https://x' });
    expect(isCloudflareAccessProvisioned(other)).toBe(false);
    expect(await userSourceOf(other, registeredIf({ id: 'l' }))).toBe(
      'registered',
    );
    expect(await userSourceOf(other, registeredIf(undefined))).toBe('operator');
    expect(asked).toEqual(['user:default/jane', 'user:default/jane']);
    expect(isCloudflareAccessProvisioned({ metadata: {} })).toBe(false);
  });
});

describe('readCloudflareAccessProvisioningPolicy', () => {
  const resolver = (options: Record<string, unknown>) => ({
    resolver: 'emailMatchingUserEntityProfileEmail',
    ...options,
  });
  const read = (cfaccess: Record<string, unknown> | undefined) =>
    readCloudflareAccessProvisioningPolicy(
      new ConfigReader(
        (cfaccess ? { auth: { providers: { cfaccess } } } : {}) as JsonObject,
      ),
    );

  it('is undefined when nothing provisions', () => {
    expect(read(undefined)).toBeUndefined();
    expect(read({ signIn: { resolvers: [resolver({})] } })).toBeUndefined();
  });

  it('joins the provisioning resolvers: their domains, any provisionGroups, the smallest bounds', () => {
    const policy = read({
      accessGroups: [
        { id: 'Admins', entityRef: 'group:default/admins' },
        { id: 'ABCDEF-01', entityRef: 'group:default/hex' },
        { id: 'Team@Example.com', entityRef: 'group:default/team' },
        { id: 'Admins', entityRef: 'group:default/also' },
        // Spaces around an id in YAML are no part of it, as the auth module reads it.
        { id: ' Padded ', entityRef: 'group:default/padded' },
      ],
      signIn: {
        resolvers: [
          resolver({
            allowedDomains: ['A.com', 'b.org'],
            provisionUsers: true,
          }),
          resolver({ allowedDomains: ['skipped.net'] }),
          resolver({
            allowedDomains: [' b.org '],
            provisionUsers: true,
            provisionGroups: true,
            maxProvisionedUsers: 5,
            maxNewProvisionedUsersPerHour: 7,
            maxProvisionedGroupsPerUser: 3,
          }),
        ],
      },
    });
    expect(policy).toEqual({
      allowedDomains: ['a.com', 'b.org'],
      provisionGroups: true,
      accessGroups: new Map([
        ['Admins', ['group:default/admins', 'group:default/also']],
        ['abcdef-01', ['group:default/hex']],
        ['team@example.com', ['group:default/team']],
        ['Padded', ['group:default/padded']],
      ]),
      maxProvisionedUsers: 5,
      maxNewProvisionedUsersPerHour: 7,
      maxProvisionedGroupsPerUser: 3,
    });
  });

  it('takes the defaults when no resolver sets a bound, and no groups unless asked', () => {
    expect(
      read({
        signIn: {
          resolvers: [
            resolver({ allowedDomains: ['a.com'], provisionUsers: true }),
          ],
        },
      }),
    ).toEqual({
      allowedDomains: ['a.com'],
      provisionGroups: false,
      accessGroups: new Map(),
      maxProvisionedUsers: 10_000,
      maxNewProvisionedUsersPerHour: 100,
      maxProvisionedGroupsPerUser: 50,
    });
  });
});

describe('readCloudflareAccessGroups', () => {
  const read = (accessGroups: unknown[]) =>
    readCloudflareAccessGroups(
      new ConfigReader({ accessGroups } as JsonObject),
    );

  it('gives full Group refs, once each, and none without accessGroups', () => {
    expect(read([])).toEqual(new Map());
    expect(
      read([
        { id: 'g1', entityRef: 'platform' },
        { id: 'g1', entityRef: 'group:default/platform' },
        { id: 'g1', entityRef: 'Group:other/ops' },
      ]),
    ).toEqual(new Map([['g1', ['group:default/platform', 'group:other/ops']]]));
  });

  it('throws naming the entry for an empty id, or a ref that is not a Group', () => {
    expect(() => read([{ id: ' ', entityRef: 'platform' }])).toThrow(
      'Invalid Cloudflare Access config: auth.providers.cfaccess.accessGroups[0].id is empty. Set it to the Access group id (Zero Trust dashboard, Access, Access Groups) or the identity provider group id or email that get-identity reports.',
    );
    for (const entityRef of ['user:default/ada', 'group:', ':']) {
      expect(() =>
        read([
          { id: 'g1', entityRef: 'platform' },
          { id: 'g2', entityRef },
        ]),
      ).toThrow(
        'Invalid Cloudflare Access config: auth.providers.cfaccess.accessGroups[1].entityRef is not a Group entity ref. Write the catalog Group the Access group stands for, e.g. group:default/platform.',
      );
    }
  });
});

describe('a hashed provisioned name', () => {
  it('drops every symbol its cut prefix ends with, so the name stays a valid entity name', () => {
    // The prefix is cut at 46 characters, right after the two symbols.
    const name = provisionedUserEntityName(
      `${'a'.repeat(44)}!!${'b'.repeat(5)}@example.com`,
    );
    expect(name).toMatch(/^a{44}-[0-9a-f]{16}$/);
  });
});
