/** What the module counts and measures, through Backstage's metrics service (OpenTelemetry). Labels are bounded sets, never a person. */
import type { MetricsService } from '@backstage/backend-plugin-api/alpha';

/** How one refresh ended: signed in, signed in from the token alone (get-identity was unusable), or refused. */
export type SignInOutcome = 'signed_in' | 'degraded' | 'refused';
/** Who asked: a person, a person signed in as their provisioned User, a service token; unknown before the token is verified. */
export type SignInPrincipal =
  | 'person'
  | 'provisioned'
  | 'service_token'
  | 'unknown';
/** What one get-identity call told: an identity, Access ended the session, someone else refused, nonsense, no answer in time, no answer. */
export type IdentityCallOutcome =
  | 'ok'
  | 'ended'
  | 'refused'
  | 'unusable'
  | 'timeout'
  | 'error';
/** Where a read of session state was answered, and how. */
export type CacheReadResult =
  | { layer: 'memory'; result: 'hit' | 'miss' }
  | { layer: 'shared'; result: 'hit' | 'miss' | 'rejected' | 'unavailable' };

/** The module's instruments; every method is cheap enough for the warm path. */
export interface CloudflareAccessMetrics {
  signIn(
    outcome: SignInOutcome,
    principal: SignInPrincipal,
    reason?: string,
  ): void;
  identityCall(outcome: IdentityCallOutcome, seconds: number): void;
  keyFetch(outcome: 'ok' | 'error'): void;
  cacheRead(read: CacheReadResult): void;
  /** Reports the age of the key set in use, in seconds, at each collection; the last one registered wins. */
  observeKeys(ageSeconds: () => number | undefined): void;
  /** Reports whether the shared cache is being bypassed at each collection. */
  observeCircuit(open: () => boolean): void;
}

// Get-identity is one HTTPS call to Cloudflare's edge: tens of milliseconds when well, the timeout (5 s) when not.
const IDENTITY_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Metrics that go nowhere: for the public factories used without the module. */
export const NO_METRICS: CloudflareAccessMetrics = {
  signIn() {},
  identityCall() {},
  keyFetch() {},
  cacheRead() {},
  observeKeys() {},
  observeCircuit() {},
};

/** The module's instruments on the auth plugin's metrics service. */
export function createCloudflareAccessMetrics(
  metrics: MetricsService,
): CloudflareAccessMetrics {
  const signIns = metrics.createCounter('cfaccess.sign_ins', {
    description:
      'Sign-ins through Cloudflare Access (each refresh), by outcome, refusal reason and principal',
    unit: '{sign_in}',
  });
  const identityCalls = metrics.createCounter('cfaccess.get_identity.calls', {
    description: "Calls to Cloudflare Access's get-identity, by outcome",
    unit: '{call}',
  });
  const identityDuration = metrics.createHistogram(
    'cfaccess.get_identity.duration',
    {
      description: "How long Cloudflare Access's get-identity took to answer",
      unit: 's',
      advice: { explicitBucketBoundaries: IDENTITY_BUCKETS_S },
    },
  );
  const keyFetches = metrics.createCounter('cfaccess.keys.fetches', {
    description: "Fetches of Cloudflare Access's signing keys, by outcome",
    unit: '{fetch}',
  });
  const cacheReads = metrics.createCounter('cfaccess.cache.reads', {
    description:
      'Reads of Cloudflare Access session state, by the layer that answered and the result',
    unit: '{read}',
  });
  // A series appears at its first count, which rate() cannot see: a forged entry must be seen from the first one.
  cacheReads.add(0, {
    'cfaccess.cache.layer': 'shared',
    'cfaccess.cache.result': 'rejected',
  });
  let keysAge: () => number | undefined = () => undefined;
  metrics
    .createObservableGauge('cfaccess.keys.age', {
      description: 'Seconds since the signing key set in use was fetched',
      unit: 's',
    })
    .addCallback(result => {
      const age = keysAge();
      if (age !== undefined) {
        result.observe(age);
      }
    });
  let circuitOpen = () => false;
  metrics
    .createObservableGauge('cfaccess.cache.circuit.open', {
      description:
        '1 while the shared cache is bypassed after failing (sign-in goes on unshared), else 0',
    })
    .addCallback(result => result.observe(circuitOpen() ? 1 : 0));

  return {
    signIn(outcome, principal, reason) {
      signIns.add(1, {
        'cfaccess.outcome': outcome,
        'cfaccess.reason': reason ?? 'none',
        'cfaccess.principal': principal,
      });
    },
    identityCall(outcome, seconds) {
      identityCalls.add(1, { 'cfaccess.outcome': outcome });
      identityDuration.record(seconds, { 'cfaccess.outcome': outcome });
    },
    keyFetch(outcome) {
      keyFetches.add(1, { 'cfaccess.outcome': outcome });
    },
    cacheRead({ layer, result }) {
      cacheReads.add(1, {
        'cfaccess.cache.layer': layer,
        'cfaccess.cache.result': result,
      });
    },
    observeKeys(ageSeconds) {
      keysAge = ageSeconds;
    },
    observeCircuit(open) {
      circuitOpen = open;
    },
  };
}
