import { JsonObject } from '@backstage/types';
import {
  BackendFeature,
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import {
  EventParams,
  eventsServiceFactory,
  eventsServiceRef,
} from '@backstage/plugin-events-node';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import {
  CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
  CloudflareAccessPersonSeenEvent,
  parseCloudflareAccessPersonSeenEvent,
  provisionedGroupEntityName,
} from '@cfaccess/plugin-cloudflare-access-node';
import { decodeJwt } from 'jose';
import {
  CfaccessBackend,
  FIXTURE_CATALOG,
  startCfaccessBackend,
} from './__testUtils__/testBackend';
import { eventually } from './__testUtils__/eventually';

/** A plugin that records what is published on the person-seen topic, through the real events service. */
function personSeenRecorder(seen: EventParams[]) {
  return createBackendPlugin({
    pluginId: 'person-seen-recorder',
    register(reg) {
      reg.registerInit({
        deps: { events: eventsServiceRef },
        async init({ events }) {
          await events.subscribe({
            id: 'recorder',
            topics: [CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC],
            async onEvent(event) {
              seen.push(event);
            },
          });
        },
      });
    },
  });
}

const until = (check: () => boolean) => eventually(check);

/** A backend whose one resolver provisions people of example.com, recording what it announces in `seen`. */
function startProvisioning(
  emulator: AccessEmulator,
  seen: EventParams[],
  options: {
    provisionGroups?: boolean;
    serviceTokens?: JsonObject[];
    allowedDomains?: string[];
    readyUser?: string;
    /** More options of the provisioning resolver (bounds). */
    resolver?: JsonObject;
    /** More provider config. */
    provider?: JsonObject;
    features?: BackendFeature[];
  } = {},
) {
  return startCfaccessBackend({
    provider: {
      teamDomain: emulator.url,
      audience: 'aud',
      ...options.provider,
      accessGroups: [
        { id: 'g-security', entityRef: 'group:default/security' },
        { id: 'g-gone', entityRef: 'group:default/not-in-catalog' },
      ],
      serviceTokens: options.serviceTokens ?? [],
      signIn: {
        resolvers: [
          {
            resolver: 'emailMatchingUserEntityProfileEmail',
            allowedDomains: options.allowedDomains ?? ['example.com'],
            provisionUsers: true,
            ...(options.provisionGroups && { provisionGroups: true }),
            ...options.resolver,
          },
        ],
      },
    },
    catalogFile: FIXTURE_CATALOG,
    readyUser: options.readyUser ?? 'deploy-bot',
    config: { events: { useEventBus: 'never' } },
    features: [
      eventsServiceFactory,
      personSeenRecorder(seen),
      ...(options.features ?? []),
    ],
  });
}

describe('provisionUsers: a person with no User entity signs in as the User provisioning creates', () => {
  let emulator: AccessEmulator;
  let backend: CfaccessBackend;
  const seen: EventParams[] = [];

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      users: [
        {
          email: 'New.Person@example.com',
          name: 'New Person',
          groups: [
            { id: 'g-security', name: 'Security' },
            { id: 'g-gone', name: 'Gone' },
            { id: 'g-unmapped', name: 'platform' },
          ],
        },
        { email: 'stranger@elsewhere.example', groups: [] },
        {
          email: 'long.name@example.com',
          name: 'N'.repeat(250),
          groups: [
            { id: 'g-security', name: 'Security' },
            { id: 'g'.repeat(250), name: 'A group with a very long id' },
          ],
        },
      ],
    });
    backend = await startProvisioning(emulator, seen, {
      serviceTokens: [{ token: 'bot.access', subject: 'nobody@example.com' }],
    });
  });

  afterAll(async () => {
    await backend.stop();
    await emulator.close();
  });

  let markers = 0;
  /**
   * What was announced after the first `before` events, up to a marker: a new
   * person signed in now, whose announcement comes after anything before it
   * would have, so "nothing announced" is checked without a fixed wait.
   */
  async function announcedBeforeMarker(before: number) {
    const email = `marker-${++markers}@example.com`;
    const { token } = await emulator.signIn(email);
    expect((await backend.refresh(token)).status).toBe(200);
    const isMarker = (event: EventParams) =>
      (event.eventPayload as CloudflareAccessPersonSeenEvent).email === email;
    await until(() => seen.some(isMarker));
    expect(seen.some(isMarker)).toBe(true);
    return seen.slice(before).filter(event => !isMarker(event));
  }

  it('issues a token for the provisioned User, owning the mapped Groups that exist, and announces them once', async () => {
    const { token } = await emulator.signIn('New.Person@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity).toEqual({
      type: 'user',
      userEntityRef: 'user:default/new.person_example.com',
      ownershipEntityRefs: [
        'user:default/new.person_example.com',
        'group:default/security',
      ],
    });
    await until(() => seen.length > 0);
    expect(seen).toHaveLength(1);
    const event = seen[0].eventPayload as CloudflareAccessPersonSeenEvent;
    expect(event).toEqual({
      version: 1,
      email: 'New.Person@example.com',
      accessUserId: decodeJwt(token).sub,
      displayName: 'New Person',
      accessGroupIds: ['g-gone', 'g-security', 'g-unmapped'],
      memberOf: ['group:default/security'],
      seenAt: expect.any(String),
      // Signed with this backend's key, which the catalog module checks.
      signature: expect.stringMatching(/^[\w-]{43}$/),
    });

    // A second Access session of the same person, same facts: not announced again.
    const again = await emulator.signIn('New.Person@example.com');
    expect((await backend.refresh(again.token)).status).toBe(200);
    expect(await announcedBeforeMarker(1)).toEqual([]);
  });

  it('keeps what it announces within the event bounds, so that the catalog module takes it', async () => {
    const { token } = await emulator.signIn('long.name@example.com');
    expect((await backend.refresh(token)).status).toBe(200);
    const isTheirs = (event: EventParams) =>
      (event.eventPayload as CloudflareAccessPersonSeenEvent).email ===
      'long.name@example.com';
    await until(() => seen.some(isTheirs));
    const event = seen.find(isTheirs)!
      .eventPayload as CloudflareAccessPersonSeenEvent;
    expect(event.displayName).toBe(`${'N'.repeat(190)}...`);
    expect(event.accessGroupIds).toEqual(['g-security']);
    expect(parseCloudflareAccessPersonSeenEvent(event)).toEqual(event);
  });

  it('refuses a person outside allowedDomains and announces nothing', async () => {
    const before = seen.length;
    const { token } = await emulator.signIn('stranger@elsewhere.example');
    const res = await backend.refresh(token);
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('domain');
    // The person learns what to do, not which domains are allowed.
    expect(res.body.error.message).toBe(
      'Accounts of your email domain may not sign in to Backstage. Sign in with another account, or ask your Backstage administrator.',
    );
    expect(JSON.stringify(res.body)).not.toContain('example.com');
    expect(backend.audited.at(-1)?.error).toMatch(
      /stranger@elsewhere\.example is not in an allowed email domain.*example\.com/,
    );
    expect(await announcedBeforeMarker(before)).toEqual([]);
  });

  it('never provisions a service token', async () => {
    const before = seen.length;
    const res = await backend.refresh(
      await emulator.mintServiceToken('bot.access'),
    );
    expect(res.status).toBe(403);
    expect(await announcedBeforeMarker(before)).toEqual([]);
  });
});

describe('provisionGroups: the unmapped Access groups of a provisioned person become Groups', () => {
  let emulator: AccessEmulator;
  let backend: CfaccessBackend;
  const seen: EventParams[] = [];

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      users: [
        {
          email: 'grouped@example.com',
          groups: [
            { id: 'g-security', name: 'Security' },
            // Named like a team, but only its id names the Group kept for it.
            { id: 'G-Made-By-Someone', name: 'security' },
            { id: 'weird id/with:chars', name: 'Odd\u0007 one' },
          ],
        },
      ],
    });
    backend = await startProvisioning(emulator, seen, {
      provisionGroups: true,
    });
  });

  afterAll(async () => {
    await backend.stop();
    await emulator.close();
  });

  it('owns the mapped Group and a Group per unmapped Access group, named by its id, and announces them', async () => {
    const { token } = await emulator.signIn('grouped@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    const hashed = provisionedGroupEntityName('weird id/with:chars');
    expect(hashed).toMatch(/^access-group\.[0-9a-f]{16}$/);
    expect(res.body.backstageIdentity.identity.ownershipEntityRefs).toEqual([
      'user:default/grouped_example.com',
      'group:default/security',
      `group:default/${provisionedGroupEntityName('G-Made-By-Someone')}`,
      `group:default/${hashed}`,
    ]);
    await until(() => seen.length > 0);
    const event = seen[0].eventPayload as CloudflareAccessPersonSeenEvent;
    expect(event.memberOf).toEqual(['group:default/security']);
    expect(event.provisionedGroups).toEqual([
      { id: 'G-Made-By-Someone', name: 'security' },
      { id: 'weird id/with:chars', name: 'Odd one' },
    ]);
    expect(parseCloudflareAccessPersonSeenEvent(event)).toEqual(event);
  });
});

describe('provisionUsers config', () => {
  it.each([
    [
      'provisionUsers without allowedDomains',
      { provisionUsers: true },
      /signIn\.resolvers\[0\]\.provisionUsers .* needs auth\.providers\.cfaccess\.signIn\.resolvers\[0\]\.allowedDomains/,
    ],
    [
      'provisionGroups without provisionUsers',
      { provisionGroups: true },
      /signIn\.resolvers\[0\]\.provisionGroups keeps Groups for provisioned Users only/,
    ],
  ])(
    'fails at start-up with %s, naming the key',
    async (_name, options, message) => {
      const emulator = await startAccessEmulator({ audience: 'aud' });
      try {
        await expect(
          startCfaccessBackend({
            provider: {
              teamDomain: emulator.url,
              audience: 'aud',
              signIn: {
                resolvers: [
                  {
                    resolver: 'emailMatchingUserEntityProfileEmail',
                    ...options,
                  },
                ],
              },
            },
            catalogFile: FIXTURE_CATALOG,
            readyUser: 'deploy-bot',
          }),
        ).rejects.toThrow(message);
      } finally {
        await emulator.close();
      }
    },
  );
});

describe('provisioning takes nothing that is not the person’s', () => {
  let emulator: AccessEmulator;
  let backend: CfaccessBackend;
  const seen: EventParams[] = [];

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      users: [
        { email: 'pat.o_brien@example.com', groups: [] },
        { email: 'x@\u212Apmg.com', groups: [] },
        {
          email: 'capturer@example.com',
          groups: [
            { id: 'captured', name: 'Captured' },
            { id: 'Admins', name: 'Admins' },
            { id: 'admins', name: 'admins' },
          ],
        },
      ],
    });
    backend = await startProvisioning(emulator, seen, {
      provisionGroups: true,
      allowedDomains: ['example.com', 'kpmg.com'],
      readyUser: 'pat.o_brien_example.com',
    });
  });

  afterAll(async () => {
    await backend.stop();
    await emulator.close();
  });

  it('refuses a person whose provisioned name another source holds', async () => {
    const { token } = await emulator.signIn('pat.o_brien@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('provisioned_name_taken');
    expect(seen).toHaveLength(0);
  });

  it('never lets the Kelvin sign pass for k in an allowed domain', async () => {
    const { token } = await emulator.signIn('x@\u212Apmg.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('domain');
  });

  it('grants no Group of another source named like a provisioned Group, and keeps Admins apart from admins', async () => {
    const { token } = await emulator.signIn('capturer@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    const owned = res.body.backstageIdentity.identity.ownershipEntityRefs;
    expect(owned).not.toContain('group:default/access-group-captured');
    expect(owned).toEqual([
      'user:default/capturer_example.com',
      `group:default/${provisionedGroupEntityName('Admins')}`,
      'group:default/access-group-admins',
    ]);
  });
});

describe('provisioning bounds', () => {
  let emulator: AccessEmulator;
  let backend: CfaccessBackend;
  const people = ['a@example.com', 'a+1@example.com', 'a+2@example.com'];

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      users: people.map(email => ({ email, groups: [] })),
    });
    backend = await startProvisioning(emulator, [], {
      provider: { signInCacheDuration: 0 },
      resolver: { maxNewProvisionedUsersPerHour: 2 },
    });
  });

  afterAll(async () => {
    await backend.stop();
    await emulator.close();
  });

  it('refuses new people past maxNewProvisionedUsersPerHour, naming the bound, and keeps those admitted signing in', async () => {
    const statuses = [];
    for (const email of people) {
      const { token } = await emulator.signIn(email);
      const res = await backend.refresh(token);
      statuses.push([res.status, res.body.error?.reason]);
    }
    expect(statuses).toEqual([
      [200, undefined],
      [200, undefined],
      [403, 'provisioning_limit'],
    ]);
    const again = await emulator.signIn('a@example.com');
    expect((await backend.refresh(again.token)).status).toBe(200);
    expect(
      backend.audited.filter(
        event => event.meta?.reason === 'provisioning_limit',
      ),
    ).toHaveLength(1);
  });
});

describe('catalog rules that let anyone add Users', () => {
  it('are warned about at start, in one line naming the fix, when provisionUsers is on', async () => {
    const warnings: string[] = [];
    const recording: RootLoggerService = {
      error() {},
      warn: message => void warnings.push(message),
      info() {},
      debug() {},
      child: () => recording,
    };
    const emulator = await startAccessEmulator({ audience: 'aud' });
    const seen: EventParams[] = [];
    // The test backend's catalog.rules allow User everywhere, as the old guide advised.
    const backend = await startProvisioning(emulator, seen, {
      features: [
        createServiceFactory({
          service: coreServices.rootLogger,
          deps: {},
          factory: () => recording,
        }),
      ],
    });
    try {
      expect(
        warnings.filter(line =>
          line.startsWith('provisionUsers is on and catalog.rules'),
        ),
      ).toEqual([
        expect.stringContaining(
          'allow User and Group only on your org locations',
        ),
      ]);
    } finally {
      await backend.stop();
      await emulator.close();
    }
  });
});
