import { ConfigReader } from '@backstage/config';
import { readCloudflareAccessConfig } from './config';

const read = (data: object) =>
  readCloudflareAccessConfig(new ConfigReader(data as any));

/** The team and the audience most cases read, as an upstream config names them. */
const ACME = { teamName: 'acme', audience: 'tag' };

describe('readCloudflareAccessConfig', () => {
  it('reads an upstream config with defaults', () => {
    expect(read({ teamName: 'Acme', audience: 'tag' })).toEqual({
      teamDomain: 'https://acme.cloudflareaccess.com',
      certsUrl: 'https://acme.cloudflareaccess.com/cdn-cgi/access/certs',
      identityUrl:
        'https://acme.cloudflareaccess.com/cdn-cgi/access/get-identity',
      audiences: ['tag'],
      jwtHeaderName: 'cf-access-jwt-assertion',
      authorizationCookieName: 'CF_Authorization',
      clockToleranceSeconds: 30,
      serviceTokens: [],
      identityTimeoutMs: 5000,
      sessionCheckIntervalMs: 60_000,
      accessGroups: new Map(),
      signInCacheSeconds: 60,
    });
  });

  it('maps Access group ids and emails to Group refs, case-insensitively', () => {
    const config = read({
      ...ACME,
      accessGroups: [
        { id: 'A1B2', entityRef: 'platform' },
        { id: 'Staff@Acme.com', entityRef: 'group:people/staff' },
        { id: 'a1b2', entityRef: 'group:default/ops' },
      ],
    });
    expect(config.accessGroups).toEqual(
      new Map([
        ['a1b2', ['group:default/platform', 'group:default/ops']],
        ['staff@acme.com', ['group:people/staff']],
      ]),
    );
  });

  it('lets teamDomain override teamName and takes a list of audiences', () => {
    const config = read({
      teamName: 'acme',
      teamDomain: 'http://localhost:7000/',
      audience: ['one', 'two'],
      clockTolerance: '5s',
      identityTimeout: { milliseconds: 1500 },
      signInCacheDuration: '0s',
    });
    expect(config.identityTimeoutMs).toBe(1500);
    expect(config.signInCacheSeconds).toBe(0);
    expect(read({ ...ACME, signInCacheDuration: 0 }).signInCacheSeconds).toBe(
      0,
    );
    expect(config.teamDomain).toBe('http://localhost:7000');
    expect(config.audiences).toEqual(['one', 'two']);
    expect(config.clockToleranceSeconds).toBe(5);
  });

  it('reads service tokens with their restrictions', () => {
    const config = read({
      teamName: 'acme',
      audience: ['one', 'two'],
      serviceTokens: [
        {
          token: 'abc.access',
          subject: 'user:default/ci-bot',
          ownershipEntityRefs: ['group:default/ci'],
          audience: 'two',
        },
      ],
    });
    expect(config.serviceTokens).toEqual([
      {
        token: 'abc.access',
        subject: 'user:default/ci-bot',
        ownershipEntityRefs: ['group:default/ci'],
        audience: ['two'],
      },
    ]);
  });

  it.each([
    [{ audience: 'tag' }, /teamName is missing.*Zero Trust/],
    [
      { teamName: 'acme.cloudflareaccess.com', audience: 'tag' },
      /teamName is not a team name/,
    ],
    [{ teamDomain: 'acme', audience: 'tag' }, /teamDomain is not a URL/],
    [
      { teamDomain: 'http://acme.cloudflareaccess.com', audience: 'tag' },
      /teamDomain must be an https/,
    ],
    [
      {
        teamDomain: 'https://acme.cloudflareaccess.com/cdn-cgi',
        audience: 'tag',
      },
      /teamDomain must be an https/,
    ],
    [{ teamName: 'acme' }, /audience is missing.*AUD/],
    [{ teamName: 'acme', audience: [] }, /audience must be a non-empty/],
    [{ teamName: 'acme', audience: [''] }, /audience must be a non-empty/],
    [
      { ...ACME, clockTolerance: '1h' },
      /clockTolerance must be between 0 and 300 seconds/,
    ],
    [{ ...ACME, clockTolerance: 'soon' }, /clockTolerance is not a duration/],
    [
      { ...ACME, identityTimeout: '0s' },
      /identityTimeout must be between 0.1 and 60 seconds/,
    ],
    [
      { ...ACME, signInCacheDuration: '1h' },
      /signInCacheDuration must be between 0 and 900 seconds/,
    ],
    [
      { ...ACME, signInCacheDuration: 30 },
      /signInCacheDuration is not a duration/,
    ],
    [
      { ...ACME, sessionCheckInterval: '0s' },
      /sessionCheckInterval must be between 1 and 86400 seconds/,
    ],
    [
      {
        ...ACME,
        accessGroups: [{ id: ' ', entityRef: 'x' }],
      },
      /accessGroups\[0\]\.id is empty/,
    ],
    [
      {
        ...ACME,
        accessGroups: [{ id: 'g', entityRef: 'user:default/ada' }],
      },
      /accessGroups\[0\]\.entityRef is not a Group entity ref/,
    ],
    [
      {
        ...ACME,
        serviceTokens: [{ token: 't', subject: 's', audience: 'other' }],
      },
      /serviceTokens\[0\]\.audience names a tag/,
    ],
  ])('refuses %j naming the key', (data, message) => {
    expect(() => read(data)).toThrow(message);
  });
});
