/** The get-identity client against something between it and Access (a proxy, a firewall): what refuses, what degrades, what is counted and warned of. */
import { LoggerService } from '@backstage/backend-plugin-api';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { useIdentityClients } from './__testUtils__/identityClient';

describe('AccessIdentityClient', () => {
  const { clock, client, signIn, outcome, calls, recorded } =
    useIdentityClients();

  describe('answers from something between the module and Access', () => {
    // A proxy or firewall in front of the team domain: answers what each test sets.
    let between: Server;
    let answer: { status: number; location?: string; json?: unknown } = {
      status: 200,
    };
    let betweenUrl = '';
    let betweenRequests = 0;

    beforeAll(async () => {
      between = createServer((_req, res) => {
        betweenRequests++;
        res.writeHead(answer.status, {
          ...(answer.location && { location: answer.location }),
          'content-type': answer.json ? 'application/json' : 'text/html',
        });
        res.end(
          answer.json ? JSON.stringify(answer.json) : '<html>not Access</html>',
        );
      });
      await new Promise<void>(resolve =>
        between.listen(0, '127.0.0.1', resolve),
      );
      betweenUrl = `http://127.0.0.1:${
        (between.address() as AddressInfo).port
      }/cdn-cgi/access/get-identity`;
    });
    afterAll(
      () => new Promise<void>(resolve => between.close(() => resolve())),
    );

    it.each([
      ['a redirect to another login page', 302, 'https://login.proxy.example/'],
      [
        "a redirect to Access's login path on another host",
        302,
        'https://other.cloudflareaccess.com/cdn-cgi/access/login',
      ],
      ['a redirect with no location', 307, undefined],
      ['a redirect to a location that is no URL', 302, 'http://['],
      ['a 300', 300, undefined],
      // A 304 has no body to cancel.
      ['a 304', 304, undefined],
      ['a 403', 403, undefined],
      // Only a redirect is Access sending the caller to its login page.
      ["a 403 naming Access's login page", 403, '/cdn-cgi/access/login'],
    ])(
      'refuses only until the session is checked again after %s',
      async (_what, status, location) => {
        answer = { status, location };
        const identities = client({
          identityUrl: betweenUrl,
          checkIntervalMs: 1,
        });
        const { token } = await signIn('ada@example.com');
        const before = await calls('refused');
        expect(await outcome(identities, token)).toBe('session_unconfirmed');
        expect(await calls('refused')).toBe(before + 1);
        answer = { status: 500 };
        clock.advance(5);
        // Not remembered as ended: asked again, and degraded now.
        expect(await outcome(identities, token)).toBe('signed in');
      },
    );

    it.each([
      [200, 'unusable'],
      [400, 'unusable'],
      [404, 'unusable'],
      [429, 'unusable'],
      [502, 'error'],
      [503, 'error'],
    ] as const)(
      "signs in from the token's claims alone when it answers %s, counted %s",
      async (status, counted) => {
        answer = { status };
        const { token, claims } = await signIn('ada@example.com');
        const before = await calls(counted);
        const { degraded } = await client({
          identityUrl: betweenUrl,
        }).getIdentity(token, claims);
        expect(degraded).toBe(true);
        expect(await calls(counted)).toBe(before + 1);
      },
    );

    it('warns once per session while get-identity gives nothing usable, and names the person', async () => {
      answer = { status: 500 };
      const warnings: string[] = [];
      const logger = {
        warn: (message: string) => warnings.push(message),
      } as unknown as LoggerService;
      const identities = client({
        identityUrl: betweenUrl,
        checkIntervalMs: 1,
        logger,
      });
      const ada = await signIn('ada@example.com');
      const requestsBefore = betweenRequests;
      for (let i = 0; i < 3; i++) {
        await identities.getIdentity(ada.token, ada.claims);
        clock.advance(5);
      }
      // A degraded session is asked about again once the check interval has passed.
      expect(betweenRequests - requestsBefore).toBe(3);
      expect(warnings).toEqual([
        expect.stringContaining(
          'get-identity gave no usable identity for ada@example.com (get-identity answered HTTP 500)',
        ),
      ]);
      const grace = await signIn('grace@example.com');
      await identities.getIdentity(grace.token, grace.claims);
      expect(warnings).toHaveLength(2);
      expect(warnings[1]).toContain('grace@example.com');
    });

    it("keeps the answer's groups that carry an id, trimmed, at most 500", async () => {
      const ada = await signIn('ada@example.com');
      const identity = (groups?: unknown[]) => ({
        email: 'ada@example.com',
        user_uuid: ada.claims.sub,
        name: 'Ada',
        ...(groups && { groups }),
      });
      answer = {
        status: 200,
        json: identity([
          { id: ' g-1 ', name: 'One', email: 'one@example.com' },
          { id: 'g-2', name: 'Two' },
          { name: 'known only by name' },
          { id: '   ', name: 'blank id' },
        ]),
      };
      const first = await client({ identityUrl: betweenUrl }).getIdentity(
        ada.token,
        ada.claims,
      );
      expect(first).toEqual({
        degraded: false,
        identity: {
          id: ada.claims.sub,
          name: 'Ada',
          email: 'ada@example.com',
          groups: [
            { id: 'g-1', name: 'One', email: 'one@example.com' },
            { id: 'g-2', name: 'Two', email: '' },
          ],
        },
      });
      answer = { status: 200, json: identity() };
      const none = await client({ identityUrl: betweenUrl }).getIdentity(
        ada.token,
        ada.claims,
      );
      expect(none.identity.groups).toEqual([]);
      answer = {
        status: 200,
        json: identity(
          Array.from({ length: 501 }, (_, i) => ({
            id: `g-${i}`,
            name: `${i}`,
          })),
        ),
      };
      const many = await client({ identityUrl: betweenUrl }).getIdentity(
        ada.token,
        ada.claims,
      );
      expect(many.identity.groups).toHaveLength(500);
      expect(many.identity.groups[499].id).toBe('g-499');
    });

    it('counts an unreachable get-identity as error, and records how long a call took in seconds', async () => {
      const closed = createServer();
      await new Promise<void>(resolve =>
        closed.listen(0, '127.0.0.1', resolve),
      );
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>(resolve => closed.close(() => resolve()));
      const { token, claims } = await signIn('ada@example.com');
      const before = await calls('error');
      const { degraded } = await client({
        identityUrl: `http://127.0.0.1:${port}/cdn-cgi/access/get-identity`,
      }).getIdentity(token, claims);
      expect(degraded).toBe(true);
      expect(await calls('error')).toBe(before + 1);
      const durations = await recorded.points<{ max?: number }>(
        'cfaccess.get_identity.duration',
      );
      expect(durations.length).toBeGreaterThan(0);
      // Every call of these tests took well under the 300 ms timeout; in seconds, under 1.
      for (const point of durations) {
        expect(point.value.max).toBeLessThan(1);
      }
    });

    it('answers without a cache, as cfaccess-explain asks, and warns each time then', async () => {
      const warnings: string[] = [];
      const logger = {
        warn: (message: string) => warnings.push(message),
      } as unknown as LoggerService;
      const { token, claims } = await signIn('ada@example.com');
      const fromAccess = await client({ noCache: true }).getIdentity(
        token,
        claims,
      );
      expect(fromAccess.degraded).toBe(false);
      answer = { status: 500 };
      const identities = client({
        identityUrl: betweenUrl,
        noCache: true,
        logger,
      });
      expect((await identities.getIdentity(token, claims)).degraded).toBe(true);
      expect((await identities.getIdentity(token, claims)).degraded).toBe(true);
      expect(warnings).toHaveLength(2);
    });
  });
});
