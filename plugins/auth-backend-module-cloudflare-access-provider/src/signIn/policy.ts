/** Who may sign in: the email a resolver needs, and the allowedDomains and allowedGroups checks. */
import {
  accessGroupIdKey,
  asciiLowerCase,
  isEmailInDomains,
} from '@cfaccess/plugin-cloudflare-access-node';
import { SignInInfo } from '@backstage/plugin-auth-node';
import { CloudflareAccessNotAllowedError } from '../errors';
import { NOT_ALLOWED_DETAILS } from '../refusals';
import { CloudflareAccessGroup, CloudflareAccessResult } from '../types';
import { ResolverOptions } from './options';

export type Info = SignInInfo<CloudflareAccessResult>;

// A catalog entity name, as the catalog model allows it.
export const ENTITY_NAME = /^[a-z0-9A-Z]([a-z0-9A-Z_.-]{0,61}[a-z0-9A-Z])?$/;

export function emailOf(info: Info): string {
  return info.profile.email || info.result.cfIdentity.email || '';
}

/** An email's two parts, when it has exactly one `@` with something on each side. */
function splitEmail(
  email: string,
): { localPart: string; domain: string } | undefined {
  const parts = email.split('@');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return undefined;
  }
  return { localPart: parts[0], domain: parts[1] };
}

/** Whether an entry of `allowedGroups` names this group: by id or group email, by name only when asked to. */
function isGroup(group: CloudflareAccessGroup, entry: string, byName: boolean) {
  return (
    accessGroupIdKey(group.id) === accessGroupIdKey(entry) ||
    (group.email !== '' &&
      asciiLowerCase(group.email) === asciiLowerCase(entry)) ||
    (byName && group.name === entry)
  );
}

export function checkAllowed(
  info: Info,
  name: string,
  options: ResolverOptions,
) {
  const email = emailOf(info);
  const { allowedDomains, allowedGroups } = options;
  if (allowedDomains) {
    if (!isEmailInDomains(email, allowedDomains)) {
      throw new CloudflareAccessNotAllowedError(
        'domain',
        NOT_ALLOWED_DETAILS.domain(email, name, allowedDomains),
      );
    }
  }
  if (allowedGroups) {
    if (info.result.degraded) {
      throw new CloudflareAccessNotAllowedError(
        'groups_unavailable',
        NOT_ALLOWED_DETAILS.groups_unavailable(email, name),
      );
    }
    const byName = options.dangerouslyMatchAccessGroupsByName ?? false;
    const member = info.result.cfIdentity.groups.some(group =>
      allowedGroups.some(entry => isGroup(group, entry, byName)),
    );
    if (!member) {
      throw new CloudflareAccessNotAllowedError(
        'group',
        NOT_ALLOWED_DETAILS.group(email, name, allowedGroups),
      );
    }
  }
}

export function requireEmail(info: Info, name: string) {
  const email = emailOf(info);
  const parts = splitEmail(email);
  if (!parts) {
    throw new CloudflareAccessNotAllowedError(
      'no_email',
      NOT_ALLOWED_DETAILS.no_email(name),
    );
  }
  return { email, ...parts };
}
