/**
 * Keeps a User entity for every person who signs in to Backstage through
 * Cloudflare Access as a provisioned User.
 *
 * @packageDocumentation
 */

export { catalogModuleCloudflareAccessProvisioning as default } from './module';
