import { ConfigReader } from '@backstage/config';
import { readCloudflareAccessConfig } from './config';

const read = (data: object) =>
  readCloudflareAccessConfig(new ConfigReader(data as any));

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
      signInCacheSeconds: 60,
    });
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
    expect(
      read({ teamName: 'acme', audience: 'tag', signInCacheDuration: 0 })
        .signInCacheSeconds,
    ).toBe(0);
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
    [{ teamName: 'acme.cloudflareaccess.com', audience: 'tag' }, /teamName is not a team name/],
    [{ teamDomain: 'acme', audience: 'tag' }, /teamDomain is not a URL/],
    [{ teamDomain: 'http://acme.cloudflareaccess.com', audience: 'tag' }, /teamDomain must be an https/],
    [{ teamDomain: 'https://acme.cloudflareaccess.com/cdn-cgi', audience: 'tag' }, /teamDomain must be an https/],
    [{ teamName: 'acme' }, /audience is missing.*AUD/],
    [{ teamName: 'acme', audience: [] }, /audience must be a non-empty/],
    [{ teamName: 'acme', audience: [''] }, /audience must be a non-empty/],
    [{ teamName: 'acme', audience: 'tag', clockTolerance: '1h' }, /clockTolerance must be between 0 and 300 seconds/],
    [{ teamName: 'acme', audience: 'tag', clockTolerance: 'soon' }, /clockTolerance is not a duration/],
    [{ teamName: 'acme', audience: 'tag', identityTimeout: '0s' }, /identityTimeout must be between 0.1 and 60 seconds/],
    [{ teamName: 'acme', audience: 'tag', signInCacheDuration: '1h' }, /signInCacheDuration must be between 0 and 900 seconds/],
    [{ teamName: 'acme', audience: 'tag', signInCacheDuration: 30 }, /signInCacheDuration is not a duration/],
    [
      { teamName: 'acme', audience: 'tag', serviceTokens: [{ token: 't', subject: 's', audience: 'other' }] },
      /serviceTokens\[0\]\.audience names a tag/,
    ],
  ])('refuses %j naming the key', (data, message) => {
    expect(() => read(data)).toThrow(message);
  });
});
