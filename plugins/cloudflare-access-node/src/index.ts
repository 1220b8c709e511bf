/** What the Cloudflare Access auth module and catalog module share. */
export {
  CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
  parseCloudflareAccessPersonSeenEvent,
  PERSON_SEEN_LIMITS,
} from './personSeen';
export type {
  CloudflareAccessPersonSeenEvent,
  CloudflareAccessProvisionedGroup,
} from './personSeen';
export {
  cloudflareAccessPersonSeenSignerServiceRef,
  PERSON_SEEN_SECRET_CONFIG_KEY,
} from './personSeenSigning';
export type { CloudflareAccessPersonSeenSigner } from './personSeenSigning';
export {
  CLOUDFLARE_ACCESS_GROUP_ID_ANNOTATION,
  CLOUDFLARE_ACCESS_PROVISIONING_LOCATION,
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
  provisionedGroupEntityName,
  provisionedGroupEntityRef,
  provisionedUserEntityName,
  provisionedUserEntityRef,
} from './userNames';
export {
  accessGroupEntryKey,
  accessGroupIdKey,
  asciiLowerCase,
  emailDomain,
  isEmailInDomains,
} from './identityRules';
export { isCloudflareAccessProvisioned, userSourceOf } from './provenance';
export type {
  CloudflareAccessUserSource,
  EntityWithAnnotations,
} from './provenance';
export {
  PROVISIONING_DEFAULTS,
  readCloudflareAccessProvisioningPolicy,
} from './provisioningPolicy';
export type { CloudflareAccessProvisioningPolicy } from './provisioningPolicy';
export {
  cloudflareAccessConfigError,
  readCloudflareAccessGroups,
} from './accessGroups';
export { reusedFor } from './reused';
export type { ReusedRead } from './reused';
