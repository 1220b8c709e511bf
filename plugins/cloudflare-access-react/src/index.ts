/**
 * Backstage sign-in through Cloudflare Access: the sign-in page, sign-out
 * through Access logout, and the Access session state.
 *
 * @packageDocumentation
 */

export { CloudflareAccessSignInPage } from './components/CloudflareAccessSignInPage';
export { CloudflareAccessSessionDialog } from './components/CloudflareAccessSessionDialog';
export { cloudflareAccessSignInModule } from './module';
export { useCloudflareAccessSession } from './session/sessionStore';
export type {
  CloudflareAccessGroup,
  CloudflareAccessProviderInfo,
  CloudflareAccessSessionState,
} from './types';
