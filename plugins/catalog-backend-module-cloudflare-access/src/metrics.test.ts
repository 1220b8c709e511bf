/** Both modules' metrics through a real OpenTelemetry SDK and Prometheus exporter, read as Prometheus scrapes them. */
import { metricsServiceFactory } from '@backstage/backend-defaults/alpha';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import { metrics } from '@opentelemetry/api';
import {
  PrometheusExporter,
  PrometheusSerializer,
} from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { parseScrape, Scrape, total } from '../../../scripts/prometheusText';
import {
  useProvisioningBackend,
  withAuthModule,
} from './__testUtils__/provisioningFixture';

jest.setTimeout(60_000);

describe('metrics', () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  let emulator: AccessEmulator;

  beforeAll(async () => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
    emulator = await startAccessEmulator({ audience: 'aud' });
  });

  const backend = useProvisioningBackend(() =>
    withAuthModule(
      emulator.url,
      {
        identityTimeout: '500ms',
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
      // The real metrics service, on the global meter provider, instead of the test backend's mock.
      [metricsServiceFactory],
    ),
  );

  afterAll(async () => {
    await emulator?.close();
    metrics.disable();
  });

  /** What Prometheus would read now. */
  async function scrape(): Promise<Scrape> {
    const { resourceMetrics } = await exporter.collect();
    return parseScrape(new PrometheusSerializer().serialize(resourceMetrics));
  }

  /** How much each series grew from one scrape to the next; `signIns` for cfaccess_sign_ins_total by its labels. */
  function growth(before: Scrape, after: Scrape) {
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);
    const signIns = (outcome: string, principal: string, reason?: string) =>
      delta('cfaccess_sign_ins_total', {
        cfaccess_outcome: outcome,
        cfaccess_principal: principal,
        ...(reason ? { cfaccess_reason: reason } : {}),
      });
    return { delta, signIns };
  }

  async function refresh(token?: string) {
    const res = await fetch(`${backend.url}/api/auth/cfaccess/refresh`, {
      headers: token ? { 'cf-access-jwt-assertion': token } : {},
    });
    await res.body?.cancel();
    return res.status;
  }

  afterEach(() => emulator.setEndpointMode('identity', 'ok'));

  it('counts sign-ins by outcome, reason and principal; reads and key fetches by result', async () => {
    const before = await scrape();
    const { token } = await emulator.signIn('grace.hopper@example.com');
    expect(await refresh(token)).toBe(200);
    expect(await refresh(token)).toBe(200);
    expect(await refresh()).toBe(401);
    const stranger = await emulator.signIn('someone@other.test');
    expect(await refresh(stranger.token)).toBe(403);

    const after = await scrape();
    const { delta, signIns } = growth(before, after);
    expect(signIns('signed_in', 'person', 'none')).toBe(2);
    expect(signIns('refused', 'unknown', 'missing')).toBe(1);
    expect(signIns('refused', 'person', 'domain')).toBe(1);
    // Two sessions, one get-identity call each; the second refresh was answered from memory.
    expect(
      delta('cfaccess_get_identity_calls_total', { cfaccess_outcome: 'ok' }),
    ).toBe(2);
    expect(
      delta('cfaccess_get_identity_duration_count', {
        cfaccess_outcome: 'ok',
      }),
    ).toBe(2);
    expect(
      delta('cfaccess_cache_reads_total', {
        cfaccess_cache_layer: 'memory',
        cfaccess_cache_result: 'hit',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      total(after, 'cfaccess_keys_fetches_total', { cfaccess_outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    // Seconds since the key set was fetched: it was, moments ago.
    expect(
      after.get('cfaccess_keys_age{otel_scope_name="backstage-plugin-auth"}'),
    ).toBeLessThan(60);
    expect(total(after, 'cfaccess_cache_circuit_open')).toBe(0);
  });

  it('counts an ended session, an unreachable and a slow get-identity, and the degraded sign-ins they give', async () => {
    const before = await scrape();
    const ended = await emulator.signIn('grace.hopper@example.com');
    emulator.endSession(ended.identityNonce);
    expect(await refresh(ended.token)).toBe(401);

    emulator.setEndpointMode('identity', 'error');
    const down = await emulator.signIn('grace.hopper@example.com');
    expect(await refresh(down.token)).toBe(200);

    emulator.setEndpointMode('identity', 'timeout');
    const slow = await emulator.signIn('grace.hopper@example.com');
    expect(await refresh(slow.token)).toBe(200);

    const { delta, signIns } = growth(before, await scrape());
    expect(signIns('refused', 'person', 'session_ended')).toBe(1);
    expect(signIns('degraded', 'person')).toBe(2);
    for (const outcome of ['ended', 'error', 'timeout']) {
      expect(
        delta('cfaccess_get_identity_calls_total', {
          cfaccess_outcome: outcome,
        }),
      ).toBe(1);
    }
    // The timeout is in the histogram's top buckets: at least identityTimeout, 500 ms.
    expect(
      delta('cfaccess_get_identity_duration_bucket', {
        cfaccess_outcome: 'timeout',
        le: '0.25',
      }),
    ).toBe(0);
    expect(
      delta('cfaccess_get_identity_duration_bucket', {
        cfaccess_outcome: 'timeout',
        le: '1',
      }),
    ).toBe(1);
  });

  it('counts provisioned people: new Users and the gauges', async () => {
    const before = await scrape();
    const { token } = await emulator.signIn('newbie@example.com');
    expect(await refresh(token)).toBe(200);
    await backend.waitForUser('newbie_example.com');

    const after = await scrape();
    expect(
      total(after, 'cfaccess_sign_ins_total', {
        cfaccess_outcome: 'signed_in',
        cfaccess_principal: 'provisioned',
      }),
    ).toBe(1);
    expect(
      total(after, 'cfaccess_provisioned_users_created_total') -
        total(before, 'cfaccess_provisioned_users_created_total'),
    ).toBe(1);
    // This replica's own change shows at once (another replica's within a minute).
    expect(total(before, 'cfaccess_provisioned_users')).toBe(0);
    expect(total(after, 'cfaccess_provisioned_users')).toBe(1);
    expect(total(after, 'cfaccess_provisioned_groups')).toBe(0);
  });
});
