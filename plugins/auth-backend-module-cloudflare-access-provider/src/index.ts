/**
 * Backstage sign-in through Cloudflare Access.
 *
 * @packageDocumentation
 */

export { authModuleCloudflareAccessProvider as default } from './module';
export { createCloudflareAccessAuthenticator } from './authenticator';
export { cloudflareAccessSignInResolvers } from './resolvers';
export {
  CloudflareAccessAuthenticationError,
  CloudflareAccessNotAllowedError,
  CloudflareAccessUnavailableError,
} from './errors';
export type { CloudflareAccessRefusalReason } from './errors';
export type {
  CloudflareAccessClaims,
  CloudflareAccessGroup,
  CloudflareAccessIdentityProfile,
  CloudflareAccessProviderInfo,
  CloudflareAccessResult,
  CloudflareAccessServiceToken,
} from './types';
