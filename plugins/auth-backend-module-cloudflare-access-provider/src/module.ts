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
  readCloudflareAccessConfig,
} from './config';
import { createCloudflareAccessMetrics } from './metrics';
import { createPersonSeenAnnouncer } from './personSeen';
import { cloudflareAccessSignInResolvers } from './signIn/resolvers';
import { readCloudflareAccessSignInResolver } from './signIn/chain';
import { createSessionCache } from './sessionCache';
import { SessionKeys } from './cache/sessionKeys';

/**
 * The Cloudflare Access provider backend module for the auth plugin:
 * registers provider `cfaccess`.
 *
 * @public
 */
export const authModuleCloudflareAccessProvider = createBackendModule({
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
      async init({
        providers,
        cache,
        database,
        rootConfig,
        logger,
        auth,
        auditor,
        catalog,
        events,
        metricsService,
        personSeenSigner,
      }) {
        const metrics = createCloudflareAccessMetrics(metricsService);
        const sharedStore =
          (rootConfig.getOptionalString('backend.cache.store') ?? 'memory') !==
          'memory';
        const sessions = createSessionCache({
          cache,
          rootConfig,
          logger,
          metrics,
          // Only a shared store is read by others; the database is not touched otherwise.
          secret: sharedStore ? await loadCacheSecret(database) : undefined,
        });
        const authenticator = createAuthenticator({
          cache: sessions,
          logger,
          auditor,
          metrics,
        });
        const catalogPort = createCatalogPort({ catalog, auth });
        providers.registerProvider({
          providerId: 'cfaccess',
          factory: ctx => {
            // Read once here; the authenticator's initialize gets the same reading.
            const accessConfig = readCloudflareAccessConfig(ctx.config);
            if (
              readCloudflareAccessProvisioningPolicy(rootConfig) &&
              catalogRulesAllowUsersEverywhere(rootConfig)
            ) {
              logger.warn(
                'provisionUsers is on and catalog.rules allows User entities from every location, so anyone signed in can register a User through the catalog API; allow User and Group only on your org locations, as create-app does (catalog.rules: [{ allow: [Component, System, API, Resource, Location] }] plus rules: [{ allow: [User, Group] }] on the org location)',
              );
            }
            const keys = new SessionKeys(accessConfig);
            return createProxyAuthProviderFactory({
              authenticator,
              signInResolver: readCloudflareAccessSignInResolver({
                config: ctx.config,
                // Ours last, so a common resolver of the same name cannot shadow them.
                factories: {
                  ...commonSignInResolvers,
                  ...cloudflareAccessSignInResolvers,
                },
                accessConfig,
                ...catalogPort,
                cache: sessions,
                keys,
                providerId: ctx.providerId,
                audit: createSignInAudit({ auditor, logger }),
                announce: createPersonSeenAnnouncer({
                  events,
                  signer: personSeenSigner,
                  cache: sessions,
                  keys,
                  logger,
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
