import { parseCloudflareAccessPersonSeenEvent } from './personSeen';

const event = {
  version: 1,
  email: 'jane@example.com',
  accessUserId: '1f0c6e0a-8c5d-4e2b-9a77-52f0c1d2e3f4',
  displayName: 'Jane',
  accessGroupIds: ['g-1'],
  memberOf: ['group:default/platform'],
  seenAt: '2026-11-26T04:00:00.000Z',
};

describe('parseCloudflareAccessPersonSeenEvent', () => {
  it('reads a person-seen event', () => {
    expect(parseCloudflareAccessPersonSeenEvent(event)).toEqual(event);
  });

  it.each([
    ['not an object', 'jane@example.com'],
    ['another version', { ...event, version: 2 }],
    ['a field too long', { ...event, email: `${'a'.repeat(320)}@x.io` }],
    ['an unknown field', { ...event, admin: true }],
    ['no user id', { ...event, accessUserId: '' }],
    ['a bad time', { ...event, seenAt: 'yesterday' }],
  ])('is undefined for %s', (_name, payload) => {
    expect(parseCloudflareAccessPersonSeenEvent(payload)).toBeUndefined();
  });
});
