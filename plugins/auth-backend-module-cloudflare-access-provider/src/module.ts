/** Wiring only: registers the `cfaccess` provider with the auth plugin. */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import {
  cloudflareAccessPersonSeenSignerServiceRef,
  readCloudflareAccessProvisioningPolicy,
} from '@cfaccess/plugin-cloudflare-access-node';
import {
  authProvidersExtensionPoint,
  commonSignInResolvers,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { createSignInAudit } from './audit';
import { loadCacheSecret } from './cacheSecret';
import { createCatalogPort } from './catalogPort';
import { createAuthenticator } from './authenticator';
import {
  catalogRulesAllowUsersEverywhere,
  PROVISIONING_RULES_WARNING,
  readCloudflareAccessConfig,
} from './config';
import { createCloudflareAccessMetrics } from './metrics';
import { createPersonSeenAnnouncer } from './personSeen';
import { cloudflareAccessSignInResolvers } from './signIn/resolvers';
import { readCloudflareAccessSignInResolver } from './signIn/chain';
import { createSessionCache } from './sessionCache';
import { Clock, SYSTEM_CLOCK } from './clock';
import { createProviderContext } from './context';

/** The module on a given clock; tests pass one they move. */
export function createAuthModule(options: { clock: Clock }) {
  const { clock } = options;
  return createBackendModule({
    pluginId: 'auth',
    // The upstream module's id, so the two cannot be installed side by side by mistake.
    moduleId: 'cloudflare-access-provider',
    register(reg) {
      reg.registerInit({
        deps: {
          providers: authProvidersExtensionPoint,
          cache: coreServices.cache,
          database: coreServices.database,
          rootConfig: coreServices.rootConfig,
          logger: coreServices.logger,
          auth: coreServices.auth,
          auditor: coreServices.auditor,
          catalog: catalogServiceRef,
          events: eventsServiceRef,
          metricsService: metricsServiceRef,
          personSeenSigner: cloudflareAccessPersonSeenSignerServiceRef,
        },
        async init(deps) {
          const { providers, cache, database, rootConfig, logger } = deps;
          const { auditor, events, personSeenSigner } = deps;
          const metrics = createCloudflareAccessMetrics(deps.metricsService);
          const sharedStore =
            (rootConfig.getOptionalString('backend.cache.store') ??
              'memory') !== 'memory';
          const sessions = createSessionCache({
            cache,
            rootConfig,
            logger,
            metrics,
            clock,
            // Only a shared store is read by others; the database is not touched otherwise.
            secret: sharedStore ? await loadCacheSecret(database) : undefined,
          });
          const catalog = createCatalogPort(deps);
          const audit = createSignInAudit({ auditor, logger, clock });
          if (
            readCloudflareAccessProvisioningPolicy(rootConfig) &&
            catalogRulesAllowUsersEverywhere(rootConfig)
          ) {
            logger.warn(PROVISIONING_RULES_WARNING);
          }
          providers.registerProvider({
            providerId: 'cfaccess',
            factory: ctx => {
              const context = createProviderContext(
                readCloudflareAccessConfig(ctx.config),
                { cache: sessions, logger, metrics, clock },
              );
              return createProxyAuthProviderFactory({
                authenticator: createAuthenticator({
                  logger,
                  auditor,
                  metrics,
                  context,
                }),
                signInResolver: readCloudflareAccessSignInResolver({
                  config: ctx.config,
                  // Ours last, so a common resolver of the same name cannot shadow them.
                  factories: {
                    ...commonSignInResolvers,
                    ...cloudflareAccessSignInResolvers,
                  },
                  context,
                  catalog,
                  cache: sessions,
                  providerId: ctx.providerId,
                  audit,
                  announce: createPersonSeenAnnouncer({
                    events,
                    signer: personSeenSigner,
                    cache: sessions,
                    keys: context.keys,
                    logger,
                    clock,
                  }),
                  metrics,
                }),
              })(ctx);
            },
          });
        },
      });
    },
  });
}

/**
 * The Cloudflare Access provider backend module for the auth plugin:
 * registers provider `cfaccess`.
 *
 * @public
 */
export const authModuleCloudflareAccessProvider = createAuthModule({
  clock: SYSTEM_CLOCK,
});
