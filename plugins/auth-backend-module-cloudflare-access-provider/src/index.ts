/**
 * Backstage sign-in through Cloudflare Access.
 *
 * @packageDocumentation
 */

export { authModuleCloudflareAccessProvider as default } from './module';
export { createCloudflareAccessAuthenticator } from './authenticator';
export { createCloudflareAccessSessionCache } from './sessionCache';
export {
  cloudflareAccessSignInResolvers,
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
} from './signIn/resolvers';
export type { CloudflareAccessSignInResolverOptions } from './signIn/options';
export { explainCloudflareAccessToken } from './explain';
export type { CloudflareAccessTokenExplanation } from './explain';
export {
  CloudflareAccessAuthenticationError,
  CloudflareAccessNotAllowedError,
  CloudflareAccessUnavailableError,
} from './errors';
export type {
  CloudflareAccessNotAllowedReason,
  CloudflareAccessRefusalReason,
} from './errors';
export type {
  CloudflareAccessClaims,
  CloudflareAccessGroup,
  CloudflareAccessIdentityProfile,
  CloudflareAccessProviderInfo,
  CloudflareAccessResult,
  CloudflareAccessServiceToken,
} from './types';
