/** What provisioning counts, through Backstage's metrics service (OpenTelemetry): how many, never who. */
import type { MetricsService } from '@backstage/backend-plugin-api/alpha';
import { reusedFor } from '@cfaccess/plugin-cloudflare-access-node';

/** The provisioning provider's instruments. */
export interface ProvisioningMetrics {
  created(): void;
  handedOver(count: number): void;
  removed(kind: 'user' | 'group', count: number): void;
  /** Reports the provisioned Users and Groups at each collection. */
  observeCounts(read: () => Promise<{ users: number; groups: number }>): void;
}

/** Metrics that go nowhere. */
export const NO_PROVISIONING_METRICS: ProvisioningMetrics = {
  created() {},
  handedOver() {},
  removed() {},
  observeCounts() {},
};

// A collection reads the store at most this often: a scrape every few seconds is not a query every few seconds.
const COUNTS_MAX_AGE_MS = 60_000;

export function createProvisioningMetrics(
  metrics: MetricsService,
): ProvisioningMetrics {
  const created = metrics.createCounter('cfaccess.provisioned.users.created', {
    description: 'Users provisioned into the catalog at a first sign-in',
    unit: '{user}',
  });
  const handovers = metrics.createCounter('cfaccess.provisioned.handovers', {
    description:
      "Provisioned Users removed because the operator's own sources now keep a User with that email",
    unit: '{user}',
  });
  const removals = metrics.createCounter('cfaccess.provisioned.removals', {
    description:
      'Provisioned Users removed as not seen within removeAfter, and provisioned Groups no provisioned User is in any more',
    unit: '{entity}',
  });
  const users = metrics.createObservableGauge('cfaccess.provisioned.users', {
    description: 'Users provisioned into the catalog',
    unit: '{user}',
  });
  const groups = metrics.createObservableGauge('cfaccess.provisioned.groups', {
    description: 'Groups provisioned into the catalog',
    unit: '{group}',
  });
  // Series appear at their first count, which rate() cannot see: start them at zero.
  created.add(0);
  handovers.add(0);
  removals.add(0, { 'cfaccess.entity.kind': 'user' });
  removals.add(0, { 'cfaccess.entity.kind': 'group' });
  // The last reading of the store; a change this replica makes drops it, others' show within the max age.
  let read: () => Promise<{ users: number; groups: number }> = async () => ({
    users: 0,
    groups: 0,
  });
  const counts = reusedFor(COUNTS_MAX_AGE_MS, () => read());
  users.addCallback(async result => result.observe((await counts()).users));
  groups.addCallback(async result => result.observe((await counts()).groups));
  return {
    created() {
      created.add(1);
      counts.invalidate();
    },
    handedOver(count) {
      if (count > 0) {
        handovers.add(count);
        counts.invalidate();
      }
    },
    removed(kind, count) {
      if (count > 0) {
        removals.add(count, { 'cfaccess.entity.kind': kind });
        counts.invalidate();
      }
    },
    observeCounts(reader) {
      read = reader;
      counts.invalidate();
    },
  };
}
