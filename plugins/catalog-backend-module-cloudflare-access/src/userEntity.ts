/** What a provisioned User entity looks like, built from what the store keeps. */
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  GroupEntity,
  parseEntityRef,
  stringifyEntityRef,
  UserEntity,
} from '@backstage/catalog-model';
import {
  CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION,
  CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
  CloudflareAccessProvisionedGroup,
  provisionedGroupEntityName,
  provisionedGroupEntityRef,
} from '@cfaccess/plugin-cloudflare-access-node';
import { ProvisionedPerson } from './store';

/** The location every provisioned User is managed by: how this provider tells its Users from others. */
export const PROVISIONING_LOCATION = CLOUDFLARE_ACCESS_PROVISIONING_LOCATION;

/**
 * The Group refs among `refs`, stringified and deduplicated; a bare name is a
 * Group in the default namespace, anything else (other kinds, malformed refs)
 * is left out.
 */
export function groupRefsOf(refs: string[]): string[] {
  const groups = new Set<string>();
  for (const ref of refs) {
    try {
      const parsed = parseEntityRef(ref, {
        defaultKind: 'group',
        defaultNamespace: 'default',
      });
      if (parsed.kind.toLocaleLowerCase('en-US') === 'group') {
        groups.add(stringifyEntityRef(parsed));
      }
    } catch {
      // Not an entity ref: not a Group either.
    }
  }
  return [...groups];
}

/** The Group entity kept for an Access group: named by its id, titled by its display name. */
export function provisionedGroupEntity(
  group: CloudflareAccessProvisionedGroup,
): GroupEntity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name: provisionedGroupEntityName(group.id),
      ...(group.name ? { title: group.name } : {}),
      annotations: {
        [ANNOTATION_LOCATION]: PROVISIONING_LOCATION,
        [ANNOTATION_ORIGIN_LOCATION]: PROVISIONING_LOCATION,
        [CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION]: group.id,
      },
    },
    spec: {
      type: 'access-group',
      profile: {
        ...(group.name ? { displayName: group.name } : {}),
        ...(group.email ? { email: group.email } : {}),
      },
      children: [],
    },
  };
}

/**
 * The Groups kept for these people's Access groups, one per group: the
 * title and email from the person seen last.
 */
export function provisionedGroupEntities(
  people: ProvisionedPerson[],
): GroupEntity[] {
  const groups = new Map<string, CloudflareAccessProvisionedGroup>();
  const byLastSeen = [...people].sort(
    (a, b) => a.lastSeen.getTime() - b.lastSeen.getTime(),
  );
  for (const person of byLastSeen) {
    for (const group of person.groups) {
      groups.set(provisionedGroupEntityRef(group.id), group);
    }
  }
  return [...groups.values()].map(provisionedGroupEntity);
}

/** The User entity of a provisioned person. */
export function provisionedUserEntity(person: ProvisionedPerson): UserEntity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: person.entityName,
      annotations: {
        [ANNOTATION_LOCATION]: PROVISIONING_LOCATION,
        [ANNOTATION_ORIGIN_LOCATION]: PROVISIONING_LOCATION,
        [CLOUDFLARE_ACCESS_USER_ID_ANNOTATION]: person.accessUserId,
      },
    },
    spec: {
      profile: {
        email: person.email,
        ...(person.displayName ? { displayName: person.displayName } : {}),
      },
      // Required by the User schema, so empty rather than absent.
      memberOf: [
        ...new Set([
          ...person.memberOf,
          ...person.groups.map(group => provisionedGroupEntityRef(group.id)),
        ]),
      ],
    },
  };
}
