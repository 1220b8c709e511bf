/** The provider config's `accessGroups`, read one way for both modules. */
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { accessGroupEntryKey } from './identityRules';

/**
 * The error for a bad key of the provider config (`auth.providers.cfaccess`):
 * which key, what is wrong with it, and how to fix it, in one sentence
 * shape for every key of both modules.
 *
 * @public
 */
export function cloudflareAccessConfigError(
  key: string,
  problem: string,
  fix: string,
): Error {
  return new Error(
    `Invalid Cloudflare Access config: auth.providers.cfaccess.${key} ${problem}. ${fix}`,
  );
}

/**
 * The catalog Groups each Access group stands for, from the provider
 * config's `accessGroups` (`auth.providers.cfaccess`): full Group refs by
 * the key of each entry's id or group email ({@link accessGroupEntryKey}).
 * Throws, naming the entry at fault, for an empty id or an `entityRef` that
 * is not a Group.
 *
 * @public
 */
export function readCloudflareAccessGroups(
  provider: Config,
): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const entries = provider.getOptionalConfigArray('accessGroups') ?? [];
  entries.forEach((entry, index) => {
    const key = `accessGroups[${index}]`;
    const id = entry.getString('id').trim();
    if (!id) {
      throw cloudflareAccessConfigError(
        `${key}.id`,
        'is empty',
        'Set it to the Access group id (Zero Trust dashboard, Access, Access Groups) or the identity provider group id or email that get-identity reports.',
      );
    }
    let entityRef: string;
    try {
      const ref = parseEntityRef(entry.getString('entityRef'), {
        defaultKind: 'group',
        defaultNamespace: 'default',
      });
      if (ref.kind.toLowerCase() !== 'group') {
        throw new Error('not a group');
      }
      entityRef = stringifyEntityRef(ref);
    } catch {
      throw cloudflareAccessConfigError(
        `${key}.entityRef`,
        'is not a Group entity ref',
        'Write the catalog Group the Access group stands for, e.g. group:default/platform.',
      );
    }
    const refs = groups.get(accessGroupEntryKey(id)) ?? [];
    groups.set(accessGroupEntryKey(id), [...new Set([...refs, entityRef])]);
  });
  return groups;
}
