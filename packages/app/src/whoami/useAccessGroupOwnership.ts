import { useApi } from '@backstage/frontend-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import useAsync from 'react-use/esm/useAsync';

/** The annotation the sample's Groups (examples/org.yaml) carry with the Access group id that accessGroups maps to them. */
const ACCESS_GROUP_ID_ANNOTATION = 'cloudflare.com/access-group-id';

/**
 * The Access group ids that gave ownership: those whose catalog Group (found
 * by its access-group-id annotation) is among the person's ownership refs.
 * Undefined while loading or when the catalog could not say.
 */
export function useOwningAccessGroupIds(
  accessGroupIds: string[],
  ownershipEntityRefs: string[],
): Set<string> | undefined {
  const catalogApi = useApi(catalogApiRef);
  const { value } = useAsync(async () => {
    if (accessGroupIds.length === 0) {
      return new Set<string>();
    }
    const { items } = await catalogApi.getEntities({
      filter: {
        kind: 'Group',
        [`metadata.annotations.${ACCESS_GROUP_ID_ANNOTATION}`]: accessGroupIds,
      },
      fields: ['metadata.name', 'metadata.namespace', 'metadata.annotations'],
    });
    const owned = new Set(ownershipEntityRefs.map(ref => ref.toLowerCase()));
    return new Set(
      items
        .filter(group =>
          owned.has(
            `group:${group.metadata.namespace ?? 'default'}/${
              group.metadata.name
            }`.toLowerCase(),
          ),
        )
        .map(group => group.metadata.annotations![ACCESS_GROUP_ID_ANNOTATION]),
    );
  }, [catalogApi, accessGroupIds.join(), ownershipEntityRefs.join()]);
  return value;
}
