/** The module's one way into the catalog: every query the sign-in makes, with the module's own credentials. */
import { AuthService } from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
  isCloudflareAccessProvisioned,
  reusedFor,
  userSourceOf,
} from '@cfaccess/plugin-cloudflare-access-node';
import { AuthResolverCatalogUserQuery } from '@backstage/plugin-auth-node';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { CatalogUserRefFinder } from './signIn/catalogLookups';
import {
  CatalogRefChecker,
  RegisteredLocationFinder,
} from './signIn/resolverContext';

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

/** The catalog queries the sign-in resolvers need, beyond what the auth plugin's context offers. */
export type CatalogPort = {
  findUserRefs: CatalogUserRefFinder;
  findExistingRefs: CatalogRefChecker;
  findRegisteredLocations: RegisteredLocationFinder;
  countProvisionedUsers: () => Promise<number>;
};

export function createCatalogPort(options: {
  catalog: CatalogService;
  auth: AuthService;
}): CatalogPort {
  const { catalog, auth } = options;
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
    return (ranked.find(entities => entities.length > 0) ?? []).map(entity =>
      stringifyEntityRef(entity),
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
  return {
    findUserRefs,
    findExistingRefs,
    findRegisteredLocations,
    countProvisionedUsers,
  };
}
