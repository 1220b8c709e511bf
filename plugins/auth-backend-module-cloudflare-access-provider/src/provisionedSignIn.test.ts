/** provisionUsers and provisionGroups: a person with no User entity signs in as the User provisioning creates, owning the Groups it keeps, announced once and within the event bounds. */
import { EventParams } from '@backstage/plugin-events-node';
import {
  CloudflareAccessPersonSeenEvent,
  parseCloudflareAccessPersonSeenEvent,
  provisionedGroupEntityName,
} from '@cfaccess/plugin-cloudflare-access-node';
import { decodeJwt } from 'jose';
import { eventually } from './__testUtils__/eventually';
import { MAPPED_GROUPS, useProvisioning } from './__testUtils__/provisioning';
import { identityOf } from './__testUtils__/testBackend';

const until = (check: () => boolean) => eventually(check);

describe('provisionUsers: a person with no User entity signs in as the User provisioning creates', () => {
  const { emulator, backend, seen } = useProvisioning(
    [
      {
        email: 'New.Person@example.com',
        name: 'New Person',
        groups: [
          MAPPED_GROUPS.security,
          MAPPED_GROUPS.gone,
          { id: 'g-unmapped', name: 'platform' },
        ],
      },
      { email: 'stranger@elsewhere.example', groups: [] },
      {
        email: 'long.name@example.com',
        name: 'N'.repeat(250),
        groups: [
          MAPPED_GROUPS.security,
          { id: 'g'.repeat(250), name: 'A group with a very long id' },
        ],
      },
    ],
    { serviceTokens: [{ token: 'bot.access', subject: 'nobody@example.com' }] },
  );

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
    expect(identityOf(res)).toEqual({
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
  const { emulator, backend, seen } = useProvisioning(
    [
      {
        email: 'grouped@example.com',
        groups: [
          MAPPED_GROUPS.security,
          // Named like a team, but only its id names the Group kept for it.
          { id: 'G-Made-By-Someone', name: 'security' },
          { id: 'weird id/with:chars', name: 'Odd\u0007 one' },
        ],
      },
    ],
    { provisionGroups: true },
  );

  it('owns the mapped Group and a Group per unmapped Access group, named by its id, and announces them', async () => {
    const { token } = await emulator.signIn('grouped@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    const hashed = provisionedGroupEntityName('weird id/with:chars');
    expect(hashed).toMatch(/^access-group\.[0-9a-f]{16}$/);
    expect(identityOf(res).ownershipEntityRefs).toEqual([
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
