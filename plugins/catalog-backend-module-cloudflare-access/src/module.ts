/** Wiring only: adds the provisioning entity provider to the catalog. */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import {
  catalogProcessingExtensionPoint,
  catalogServiceRef,
} from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import {
  cloudflareAccessPersonSeenSignerServiceRef,
  readCloudflareAccessProvisioningPolicy,
} from '@cfaccess/plugin-cloudflare-access-node';
import { readProvisioningConfig } from './config';
import { createProvisioningMetrics } from './metrics';
import {
  CloudflareAccessProvisioningProvider,
  handOverProcessor,
} from './provider';
import { ProvisionedPersonStore } from './store';

/** The module on a given clock; the tests move theirs, the package passes the system clock. */
export function createProvisioningModule(options: { clock: () => Date }) {
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'cloudflare-access-provisioning',
    register(reg) {
      reg.registerInit({
        deps: {
          catalogProcessing: catalogProcessingExtensionPoint,
          config: coreServices.rootConfig,
          // Inside a catalog module, this is the catalog's own database.
          database: coreServices.database,
          scheduler: coreServices.scheduler,
          logger: coreServices.logger,
          auth: coreServices.auth,
          catalog: catalogServiceRef,
          events: eventsServiceRef,
          metrics: metricsServiceRef,
          personSeenSigner: cloudflareAccessPersonSeenSignerServiceRef,
        },
        async init({
          catalogProcessing,
          config,
          database,
          scheduler,
          logger,
          auth,
          catalog,
          events,
          metrics,
          personSeenSigner,
        }) {
          const store = await ProvisionedPersonStore.create({
            knex: await database.getClient(),
            skipMigrations: database.migrations?.skip,
          });
          const provider = new CloudflareAccessProvisioningProvider({
            ...readProvisioningConfig(config),
            store,
            events,
            personSeenSigner,
            scheduler,
            catalog,
            auth,
            logger,
            policy: readCloudflareAccessProvisioningPolicy(config),
            clock: options.clock,
            metrics: createProvisioningMetrics(metrics),
          });
          catalogProcessing.addEntityProvider(provider);
          catalogProcessing.addProcessor(handOverProcessor(provider, logger));
        },
      });
    },
  });
}

/**
 * The catalog module that keeps a User entity for every person the Cloudflare
 * Access auth module signs in as a provisioned User, and removes the Users of
 * people not seen for `catalog.providers.cloudflareAccess.removeAfter`.
 *
 * @public
 */
export const catalogModuleCloudflareAccessProvisioning =
  createProvisioningModule({ clock: () => new Date() });
