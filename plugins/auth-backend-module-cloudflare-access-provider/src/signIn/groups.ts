/** The catalog Groups a person's Access groups give: mapped, matched by name, or provisioned. */
import {
  CloudflareAccessProvisionedGroup,
  PERSON_SEEN_LIMITS,
  provisionedGroupEntityRef,
  PROVISIONING_DEFAULTS,
} from '@cfaccess/plugin-cloudflare-access-node';
import { AuthResolverContext } from '@backstage/plugin-auth-node';
import { withinEventBounds } from '../personSeen';
import { existingEntities, existingEntityRefs } from './resolverContext';
import { CloudflareAccessResult } from '../types';
import { ResolverOptions } from './options';
import { ENTITY_NAME } from './policy';

/**
 * The catalog Groups the person's Access groups stand for: those `accessGroups`
 * maps them to by id, and with `dangerouslyMatchAccessGroupsByName` those
 * named like them. Only Groups that exist in the catalog count.
 */
export async function accessGroupRefs(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
  options: ResolverOptions,
): Promise<string[]> {
  const byName = options.dangerouslyMatchAccessGroupsByName
    ? result.cfIdentity.groups
        .filter(group => ENTITY_NAME.test(group.name))
        .map(group => `group:default/${group.name.toLowerCase()}`)
    : [];
  const candidates = [
    ...new Set([...(result.accessGroupEntityRefs ?? []), ...byName]),
  ];
  return candidates.length > 0 ? existingEntityRefs(ctx, candidates) : [];
}

/**
 * The Groups a provisioned User is a member of: those `accessGroups` maps the
 * person's Access groups to, when they exist in the catalog.
 */
export async function provisionedMemberOf(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
): Promise<string[]> {
  const mapped = result.accessGroupEntityRefs ?? [];
  return mapped.length > 0 ? existingEntityRefs(ctx, mapped) : [];
}

/**
 * The Access groups `provisionGroups` keeps as Groups: those `accessGroups`
 * maps to nothing, within the person-seen event's bounds (an oversized id or
 * email left out, the title made printable and cut), sorted by id. The
 * ownership issued and the event announced both come from this one list.
 */
export function provisionedGroups(
  result: CloudflareAccessResult,
  options: ResolverOptions,
): CloudflareAccessProvisionedGroup[] {
  return (result.unmappedAccessGroups ?? [])
    .filter(({ id }) => withinEventBounds.id(id))
    .map(({ id, name, email }) => ({
      id,
      name: withinEventBounds.name(name),
      ...(email && email.length <= PERSON_SEEN_LIMITS.email && { email }),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(
      0,
      options.maxProvisionedGroupsPerUser ??
        PROVISIONING_DEFAULTS.maxProvisionedGroupsPerUser,
    );
}

/**
 * The Groups `provisionGroups` grants for the person's unmapped Access
 * groups: each Group is the provisioned one, or not in the catalog yet; one
 * of another source with the same name is never granted.
 */
export async function provisionedGroupRefs(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
  options: ResolverOptions,
): Promise<string[]> {
  const refs = provisionedGroups(result, options).map(group =>
    provisionedGroupEntityRef(group.id),
  );
  if (refs.length === 0) {
    return [];
  }
  const heldElsewhere = new Set(
    (await existingEntities(ctx, refs))
      .filter(({ provisioned }) => !provisioned)
      .map(({ entityRef }) => entityRef),
  );
  return refs.filter(ref => !heldElsewhere.has(ref));
}
