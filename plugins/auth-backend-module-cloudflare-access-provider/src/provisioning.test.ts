import { JsonObject } from '@backstage/types';
import { createBackendPlugin } from '@backstage/backend-plugin-api';
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

async function until(check: () => boolean) {
  for (let i = 0; i < 100 && !check(); i++) {
    await new Promise(r => setTimeout(r, 50));
  }
}

/** A backend whose one resolver provisions people of example.com, recording what it announces in `seen`. */
function startProvisioning(
  emulator: AccessEmulator,
  seen: EventParams[],
  options: { provisionGroups?: boolean; serviceTokens?: JsonObject[] } = {},
) {
  return startCfaccessBackend({
    provider: {
      teamDomain: emulator.url,
      audience: 'aud',
      accessGroups: [
        { id: 'g-security', entityRef: 'group:default/security' },
        { id: 'g-gone', entityRef: 'group:default/not-in-catalog' },
      ],
      serviceTokens: options.serviceTokens ?? [],
      signIn: {
        resolvers: [
          {
            resolver: 'emailMatchingUserEntityProfileEmail',
            allowedDomains: ['example.com'],
            provisionUsers: true,
            ...(options.provisionGroups && { provisionGroups: true }),
          },
        ],
      },
    },
    catalogFile: FIXTURE_CATALOG,
    readyUser: 'deploy-bot',
    config: { events: { useEventBus: 'never' } },
    features: [eventsServiceFactory, personSeenRecorder(seen)],
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
    });

    // A second Access session of the same person, same facts: not announced again.
    const again = await emulator.signIn('New.Person@example.com');
    expect((await backend.refresh(again.token)).status).toBe(200);
    await new Promise(r => setTimeout(r, 200));
    expect(seen).toHaveLength(1);
  });

  it('refuses a person outside allowedDomains and announces nothing', async () => {
    const before = seen.length;
    const { token } = await emulator.signIn('stranger@elsewhere.example');
    const res = await backend.refresh(token);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('allowed email domain');
    await new Promise(r => setTimeout(r, 200));
    expect(seen).toHaveLength(before);
  });

  it('never provisions a service token', async () => {
    const before = seen.length;
    const res = await backend.refresh(
      await emulator.mintServiceToken('bot.access'),
    );
    expect(res.status).toBe(403);
    expect(seen).toHaveLength(before);
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
      'group:default/access-group-g-made-by-someone',
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
