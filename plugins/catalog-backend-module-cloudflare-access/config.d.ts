/** The config of the Cloudflare Access provisioning module: `catalog.providers.cloudflareAccess`. */
import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';

export interface Config {
  catalog?: {
    providers?: {
      /**
       * The Users of people the Cloudflare Access auth module signs in as
       * provisioned Users. Everything is optional.
       */
      cloudflareAccess?: {
        /**
         * How long after a person was last seen (signed in) their User is
         * removed from the catalog, as a duration (`90d`, `{ days: 90 }`,
         * `P3M`). Defaults to 90 days.
         * @visibility backend
         */
        removeAfter?: SchedulerServiceTaskScheduleDefinitionConfig['timeout'];
        /**
         * When the full sync runs (remove those not seen within
         * `removeAfter`, re-emit everyone else); it also runs whenever the
         * catalog starts. Defaults to every 30 minutes, the first run 30
         * minutes after start, with a 10 minute timeout. Runs on one replica
         * at a time.
         * @visibility backend
         */
        schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
      };
    };
  };
}
