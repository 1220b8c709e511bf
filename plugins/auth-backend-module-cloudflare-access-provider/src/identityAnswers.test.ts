/** The get-identity client on its own, against the emulator's get-identity: each of Access's answers, and what is remembered of it. */
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import type { MetricsService } from '@backstage/backend-plugin-api/alpha';
import { ConfigReader } from '@backstage/config';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { DataPoint, MeterProvider } from '@opentelemetry/sdk-metrics';
import { decodeJwt } from 'jose';
import { CloudflareAccessAuthenticationError } from './errors';
import { AccessIdentityClient } from './identityClient';
import { createCloudflareAccessMetrics } from './metrics';
import { createCloudflareAccessSessionCache } from './sessionCache';
import { SessionKeys } from './cache/sessionKeys';
import { CloudflareAccessClaims } from './types';
import { EXAMPLE_ORG } from './__testUtils__/testBackend';

describe('AccessIdentityClient', () => {
  let emulator: AccessEmulator;
  // A real OpenTelemetry SDK behind the module's metrics, read without a server.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });

  /** The get-identity calls counted so far with this outcome. */
  async function calls(outcome: string): Promise<number> {
    const { resourceMetrics } = await exporter.collect();
    return resourceMetrics.scopeMetrics
      .flatMap(scope => scope.metrics)
      .filter(
        metric => metric.descriptor.name === 'cfaccess.get_identity.calls',
      )
      .flatMap(metric => metric.dataPoints as DataPoint<number>[])
      .filter(point => point.attributes['cfaccess.outcome'] === outcome)
      .reduce((sum, point) => sum + point.value, 0);
  }

  beforeAll(async () => {
    metrics.setGlobalMeterProvider(meterProvider);
    emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [EXAMPLE_ORG],
    });
  });
  afterAll(async () => {
    await emulator.close();
    metrics.disable();
  });
  afterEach(() => {
    emulator.setEndpointMode('identity', 'ok');
    emulator.resetCounts();
  });

  /** A client with its own in-process session cache (Backstage's default memory store). */
  function client(
    options: {
      checkIntervalMs?: number;
      identityUrl?: string;
      logger?: LoggerService;
      /** Without a cache, as cfaccess-explain asks. */
      noCache?: boolean;
    } = {},
  ) {
    return new AccessIdentityClient({
      identityUrl:
        options.identityUrl ?? `${emulator.url}/cdn-cgi/access/get-identity`,
      logger: options.logger,
      timeoutMs: 300,
      checkIntervalMs: options.checkIntervalMs ?? 60_000,
      cache: options.noCache
        ? undefined
        : createCloudflareAccessSessionCache({
            // The memory store never touches Backstage's cache service.
            cache: undefined as unknown as CacheService,
            rootConfig: new ConfigReader({}),
          }),
      keys: new SessionKeys({ teamDomain: emulator.url, audiences: ['aud'] }),
      // Backstage's metrics service is this meter's methods under another name.
      metrics: createCloudflareAccessMetrics(
        metrics.getMeter('identity-answers') as unknown as MetricsService,
      ),
    });
  }

  const claimsOf = (token: string) =>
    decodeJwt(token) as unknown as CloudflareAccessClaims;

  async function signIn(email: string) {
    const session = await emulator.signIn(email);
    return { ...session, claims: claimsOf(session.token) };
  }

  /** Why `getIdentity` refused, or 'signed in'. */
  async function outcome(
    identities: AccessIdentityClient,
    token: string,
  ): Promise<string> {
    try {
      await identities.getIdentity(token, claimsOf(token));
      return 'signed in';
    } catch (error) {
      if (error instanceof CloudflareAccessAuthenticationError) {
        return error.reason;
      }
      throw error;
    }
  }

  const nextTick = () => new Promise(resolve => setTimeout(resolve, 5));

  it("takes the answer's name and groups when it names the token's person, keeping the token's email", async () => {
    const { token, claims } = await signIn('grace@example.com');
    const expected = emulator.identityOf('grace@example.com');
    const { identity, degraded } = await client().getIdentity(token, {
      ...claims,
      // Access keeps the case the person typed; the answer may differ only in case.
      email: 'Grace@Example.com',
    });
    expect(degraded).toBe(false);
    expect(identity).toEqual({
      id: expected.id,
      name: expected.name,
      email: 'Grace@Example.com',
      groups: expected.groups.map(({ id, name, email }) => ({
        id,
        name,
        email: email ?? '',
      })),
    });
    expect(identity.groups.length).toBeGreaterThan(0);
  });

  it("degrades to the token's claims when the answer has the token's sub but another email", async () => {
    const grace = await signIn('grace@example.com');
    const token = await emulator.mintToken({
      email: 'linus@example.com',
      sub: grace.sub,
      identity_nonce: grace.identityNonce,
    });
    const { identity, degraded } = await client().getIdentity(
      token,
      claimsOf(token),
    );
    expect(degraded).toBe(true);
    expect(identity).toEqual({
      id: grace.sub,
      name: 'linus@example.com',
      email: 'linus@example.com',
      groups: [],
    });
  });

  it("degrades when the answer has the token's email but another sub", async () => {
    const grace = await signIn('grace@example.com');
    const token = await emulator.mintToken({
      email: 'grace@example.com',
      sub: 'another-access-user',
      identity_nonce: grace.identityNonce,
    });
    const { identity, degraded } = await client().getIdentity(
      token,
      claimsOf(token),
    );
    expect(degraded).toBe(true);
    expect(identity.groups).toEqual([]);
    expect(identity.id).toBe('another-access-user');
  });

  it('refuses a session Access ended (its 401), and remembers that past the check interval', async () => {
    const identities = client({ checkIntervalMs: 1 });
    const { token, identityNonce } = await signIn('ada@example.com');
    emulator.endSession(identityNonce);
    expect(await outcome(identities, token)).toBe('session_ended');
    await nextTick();
    expect(await outcome(identities, token)).toBe('session_ended');
    expect(emulator.requestCount('identity')).toBe(1);
  });

  it("refuses a session Access's login redirect answers for", async () => {
    emulator.setEndpointMode('identity', 'login-redirect');
    const { token } = await signIn('ada@example.com');
    expect(await outcome(client(), token)).toBe('session_ended');
  });

  it('refuses a 403 from something in between only until the session is checked again', async () => {
    const identities = client({ checkIntervalMs: 1 });
    const { token } = await signIn('ada@example.com');
    emulator.setEndpointMode('identity', 'forbidden');
    expect(await outcome(identities, token)).toBe('session_unconfirmed');
    emulator.setEndpointMode('identity', 'ok');
    await nextTick();
    expect(await outcome(identities, token)).toBe('signed in');
    expect(emulator.requestCount('identity')).toBe(2);
  });

  it.each(['error', 'timeout', 'error-body'] as const)(
    "signs in from the token's claims alone when get-identity answers %s",
    async mode => {
      emulator.setEndpointMode('identity', mode);
      const { token, claims, sub } = await signIn('ada@example.com');
      const { identity, degraded } = await client().getIdentity(token, claims);
      expect(degraded).toBe(true);
      expect(identity).toEqual({
        id: sub,
        name: 'ada@example.com',
        email: 'ada@example.com',
        groups: [],
      });
    },
  );

  it('asks once for a burst of requests of one session, and not again within the check interval', async () => {
    const identities = client();
    const { token, claims } = await signIn('ada@example.com');
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => identities.getIdentity(token, claims)),
    );
    expect(answers.every(answer => !answer.degraded)).toBe(true);
    await identities.getIdentity(token, claims);
    expect(emulator.requestCount('identity')).toBe(1);
  });

  it.each([
    ['ok', 'ok'],
    ['ended', 'ended'],
    ['login-redirect', 'ended'],
    ['forbidden', 'refused'],
    ['error-body', 'unusable'],
    ['error', 'error'],
    ['timeout', 'timeout'],
  ] as const)(
    'counts a get-identity call answered %s as %s',
    async (mode, counted) => {
      const before = await calls(counted);
      emulator.setEndpointMode('identity', mode);
      const { token } = await signIn('ada@example.com');
      await outcome(client(), token);
      expect(await calls(counted)).toBe(before + 1);
    },
  );

  it('asks again once the check interval has passed', async () => {
    const identities = client({ checkIntervalMs: 1 });
    const { token, claims } = await signIn('ada@example.com');
    await identities.getIdentity(token, claims);
    await nextTick();
    await identities.getIdentity(token, claims);
    expect(emulator.requestCount('identity')).toBe(2);
  });

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
        await nextTick();
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
        await nextTick();
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
      const { resourceMetrics } = await exporter.collect();
      const durations = resourceMetrics.scopeMetrics
        .flatMap(scope => scope.metrics)
        .filter(
          metric => metric.descriptor.name === 'cfaccess.get_identity.duration',
        )
        .flatMap(metric => metric.dataPoints as DataPoint<{ max?: number }>[]);
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
