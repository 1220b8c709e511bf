/** Wiring only: registers the `cfaccess` provider with the auth plugin. */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import {
  ANNOTATION_LOCATION,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
  cloudflareAccessPersonSeenSignerServiceRef,
  reusedFor,
  isCloudflareAccessProvisioned,
  readCloudflareAccessProvisioningPolicy,
  userSourceOf,
} from '@cfaccess/plugin-cloudflare-access-node';
import {
  AuthResolverCatalogUserQuery,
  authProvidersExtensionPoint,
  commonSignInResolvers,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { createSignInAudit } from './audit';
import { loadCacheSecret } from './cacheSecret';
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

// What the lookups read of an entity: its ref and where it comes from.
const ENTITY_FIELDS = [
  'kind',
  'metadata.namespace',
  'metadata.name',
  'metadata.annotations',
];

// How long the count of provisioned Users is reused: the bound may be passed by the new people of that time.
const CATALOG_FACTS_TTL_MS = 30_000;

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
        const credentials = () => auth.getOwnServiceCredentials();
        const findRegisteredLocations = async (entityRef: string) =>
          catalog.getLocationByEntity(entityRef, {
            credentials: await credentials(),
          });
        const countProvisionedUsers = reusedFor(
          CATALOG_FACTS_TTL_MS,
          async () =>
            (
              await catalog.queryEntities(
                {
                  filter: {
                    kind: 'user',
                    [`metadata.annotations.${ANNOTATION_LOCATION}`]:
                      CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
                  },
                  fields: ['metadata.name'],
                  limit: 1,
                },
                { credentials: await credentials() },
              )
            ).totalItems,
        );
        const findUserRefs = async (query: AuthResolverCatalogUserQuery) => {
          const filter = userFilter(query);
          if (!filter) {
            return [];
          }
          const { items } = await catalog.getEntities(
            {
              filter,
              fields: ENTITY_FIELDS,
            },
            { credentials: await credentials() },
          );
          // A provisioned User yields to one the operator's sources keep (org.yaml, an identity
          // provider's entity provider), never to one registered through the catalog API.
          const sources = await Promise.all(
            items.map(entity => userSourceOf(entity, findRegisteredLocations)),
          );
          const ranked = ['operator', 'provisioned', 'registered'].map(source =>
            items.filter((_entity, index) => sources[index] === source),
          );
          return (ranked.find(entities => entities.length > 0) ?? []).map(
            entity => stringifyEntityRef(entity),
          );
        };
        const findExistingRefs = async (entityRefs: string[]) => {
          const { items } = await catalog.getEntitiesByRefs(
            {
              entityRefs,
              fields: ENTITY_FIELDS,
            },
            { credentials: await credentials() },
          );
          return items.flatMap(entity =>
            entity
              ? [
                  {
                    entityRef: stringifyEntityRef(entity),
                    provisioned: isCloudflareAccessProvisioned(entity),
                  },
                ]
              : [],
          );
        };
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
                findUserRefs,
                findExistingRefs,
                findRegisteredLocations,
                countProvisionedUsers,
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
