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
    backend = await startCfaccessBackend({
      provider: {
        teamDomain: emulator.url,
        audience: 'aud',
        accessGroups: [
          { id: 'g-security', entityRef: 'group:default/security' },
          { id: 'g-gone', entityRef: 'group:default/not-in-catalog' },
        ],
        serviceTokens: [{ token: 'bot.access', subject: 'nobody@example.com' }],
        signIn: {
          resolvers: [
            {
              resolver: 'emailMatchingUserEntityProfileEmail',
              allowedDomains: ['example.com'],
              provisionUsers: true,
            },
          ],
        },
      },
      catalogFile: FIXTURE_CATALOG,
      readyUser: 'deploy-bot',
      config: { events: { useEventBus: 'never' } },
      features: [eventsServiceFactory, personSeenRecorder(seen)],
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

describe('provisionUsers config', () => {
  it('fails at start-up without allowedDomains, naming the key', async () => {
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
                  provisionUsers: true,
                },
              ],
            },
          },
          catalogFile: FIXTURE_CATALOG,
          readyUser: 'deploy-bot',
        }),
      ).rejects.toThrow(
        /signIn\.resolvers\[0\]\.provisionUsers .* needs auth\.providers\.cfaccess\.signIn\.resolvers\[0\]\.allowedDomains/,
      );
    } finally {
      await emulator.close();
    }
  });
});
