/** Wiring only: registers the `cfaccess` provider with the auth plugin. */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { CLOUDFLARE_ACCESS_PROVISIONING_LOCATION } from '@cfaccess/plugin-cloudflare-access-node';
import {
  AuthResolverCatalogUserQuery,
  authProvidersExtensionPoint,
  commonSignInResolvers,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { createSignInAudit } from './audit';
import { createCloudflareAccessAuthenticator } from './authenticator';
import { readCloudflareAccessConfig } from './config';
import { createPersonSeenAnnouncer } from './personSeen';
import { cloudflareAccessSignInResolvers } from './resolvers';
import { readCloudflareAccessSignInResolver } from './resolverChain';
import {
  createCloudflareAccessSessionCache,
  SessionKeys,
} from './sessionCache';

/** The catalog filter a user query stands for, as the auth plugin builds it. */
function userFilter(query: AuthResolverCatalogUserQuery) {
  if ('filter' in query) {
    return [query.filter].flat().map(filter => ({ kind: 'user', ...filter }));
  }
  if ('annotations' in query) {
    return {
      kind: 'user',
      ...Object.fromEntries(
        Object.entries(query.annotations).map(([key, value]) => [
          `metadata.annotations.${key}`,
          value,
        ]),
      ),
    };
  }
  return undefined;
}

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
        rootConfig: coreServices.rootConfig,
        logger: coreServices.logger,
        auth: coreServices.auth,
        auditor: coreServices.auditor,
        catalog: catalogServiceRef,
        events: eventsServiceRef,
      },
      async init({
        providers,
        cache,
        rootConfig,
        logger,
        auth,
        auditor,
        catalog,
        events,
      }) {
        const sessions = createCloudflareAccessSessionCache({
          cache,
          rootConfig,
          logger,
        });
        const authenticator = createCloudflareAccessAuthenticator({
          cache: sessions,
          logger,
          auditor,
        });
        const findUserRefs = async (query: AuthResolverCatalogUserQuery) => {
          const filter = userFilter(query);
          if (!filter) {
            return [];
          }
          const { items } = await catalog.getEntities(
            {
              filter,
              fields: [
                'kind',
                'metadata.namespace',
                'metadata.name',
                'metadata.annotations',
              ],
            },
            { credentials: await auth.getOwnServiceCredentials() },
          );
          // A provisioned User yields to one kept elsewhere (org.yaml, an identity provider's
          // entity provider), until the catalog module's next sync drops it.
          const keptElsewhere = items.filter(
            entity =>
              entity.metadata.annotations?.[ANNOTATION_LOCATION] !==
              CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
          );
          return (keptElsewhere.length > 0 ? keptElsewhere : items).map(
            entity => stringifyEntityRef(entity),
          );
        };
        const findExistingRefs = async (entityRefs: string[]) => {
          const { items } = await catalog.getEntitiesByRefs(
            {
              entityRefs,
              fields: ['kind', 'metadata.namespace', 'metadata.name'],
            },
            { credentials: await auth.getOwnServiceCredentials() },
          );
          return items.flatMap(entity =>
            entity ? [stringifyEntityRef(entity)] : [],
          );
        };
        providers.registerProvider({
          providerId: 'cfaccess',
          factory: ctx => {
            // Read once here; the authenticator's initialize gets the same reading.
            const accessConfig = readCloudflareAccessConfig(ctx.config);
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
                findUserRefs,
                findExistingRefs,
                cache: sessions,
                keys,
                providerId: ctx.providerId,
                audit: createSignInAudit({ auditor, logger }),
                announce: createPersonSeenAnnouncer({
                  events,
                  cache: sessions,
                  keys,
                  logger,
                }),
              }),
            })(ctx);
          },
        });
      },
    });
  },
});
