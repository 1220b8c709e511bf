/** Reads `catalog.providers.cloudflareAccess` once, with its defaults. */
import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds, HumanDuration } from '@backstage/types';

/** The config key of this provider. */
export const PROVISIONING_CONFIG_KEY = 'catalog.providers.cloudflareAccess';

/** What the provider reads from config. */
export type ProvisioningConfig = {
  /** How long after a person was last seen their User is removed. */
  removeAfter: HumanDuration;
  /** When the full sync runs, besides when the catalog starts. */
  schedule: SchedulerServiceTaskScheduleDefinition;
};

const DEFAULT_REMOVE_AFTER: HumanDuration = { days: 90 };
// The catalog's start syncs too, so the first scheduled run waits a whole period.
const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 30 },
  timeout: { minutes: 10 },
  initialDelay: { minutes: 30 },
};

/** The provider's config, defaults filled in; throws on a malformed value. */
export function readProvisioningConfig(config: Config): ProvisioningConfig {
  const own = config.getOptionalConfig(PROVISIONING_CONFIG_KEY);
  return {
    removeAfter: own?.has('removeAfter')
      ? readDurationFromConfig(own, { key: 'removeAfter' })
      : DEFAULT_REMOVE_AFTER,
    schedule: own?.has('schedule')
      ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
          own.getConfig('schedule'),
        )
      : DEFAULT_SCHEDULE,
  };
}

/** The instant `duration` before `date` (a month counts 30 days, a year 365, as Backstage counts them). */
export function durationBefore(date: Date, duration: HumanDuration): Date {
  return new Date(date.getTime() - durationToMilliseconds(duration));
}
