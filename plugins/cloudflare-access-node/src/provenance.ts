/** Where a catalog entity comes from: provisioned by the Access modules, kept by the operator's sources, or registered through the catalog API. */
import { CLOUDFLARE_ACCESS_PROVISIONING_LOCATION } from './userNames';

/**
 * The part of a catalog entity the provenance rules read.
 *
 * @public
 */
export type EntityWithAnnotations = {
  metadata: { annotations?: Record<string, string> };
};

const MANAGED_BY_LOCATION = 'backstage.io/managed-by-location';

/**
 * Whether the catalog module provisioned this entity (a User or Group).
 *
 * @public
 */
export function isCloudflareAccessProvisioned(
  entity: EntityWithAnnotations,
): boolean {
  return (
    entity.metadata.annotations?.[MANAGED_BY_LOCATION] ===
    CLOUDFLARE_ACCESS_PROVISIONING_LOCATION
  );
}

/**
 * Where a User matching a person comes from, best first: a source the
 * operator keeps (an entity provider, a location in app-config), a
 * provisioned User, or a location registered through the catalog API
 * (which, where `catalog.rules` allow Users everywhere, anyone signed in can
 * register). A provisioned User yields to the first, never to the last.
 *
 * @public
 */
export type CloudflareAccessUserSource =
  | 'operator'
  | 'provisioned'
  | 'registered';

/**
 * The source of a User: provisioned, registered through the catalog API
 * (`registeredLocationOf`, the catalog's `getLocationByEntity`, finds the
 * registered location its origin is), or the operator's.
 *
 * @public
 */
export async function userSourceOf(
  entity: EntityWithAnnotations & {
    kind: string;
    metadata: { name: string; namespace?: string };
  },
  registeredLocationOf: (entityRef: string) => Promise<unknown>,
): Promise<CloudflareAccessUserSource> {
  if (isCloudflareAccessProvisioned(entity)) {
    return 'provisioned';
  }
  const ref = `${entity.kind.toLocaleLowerCase('en-US')}:${
    entity.metadata.namespace ?? 'default'
  }/${entity.metadata.name}`;
  return (await registeredLocationOf(ref)) ? 'registered' : 'operator';
}
