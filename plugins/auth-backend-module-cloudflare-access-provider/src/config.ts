/** The provider config (`auth.providers.cfaccess`), read and checked once at start-up. */
import { Config } from '@backstage/config';
import { readCloudflareAccessGroups } from '@cfaccess/plugin-cloudflare-access-node';
import {
  readAudiences,
  readSeconds,
  readServiceTokens,
  readTeamDomain,
} from './configReaders';
import { CloudflareAccessServiceToken } from './types';

/** The header Access puts the application token in. */
export const ACCESS_JWT_HEADER = 'cf-access-jwt-assertion';
/** The cookie Access sets in browsers, and the one get-identity reads the session from. */
export const ACCESS_COOKIE = 'CF_Authorization';
/** Where a team domain publishes its signing keys. */
export const ACCESS_CERTS_PATH = '/cdn-cgi/access/certs';
/** Where a team domain sends a browser whose session has ended. */
export const ACCESS_LOGIN_PATH = '/cdn-cgi/access/login';
/** Where a team domain serves the identity behind a session. */
export const ACCESS_GET_IDENTITY_PATH = '/cdn-cgi/access/get-identity';

/** The provider's config, read and checked once at start-up. */
export type CloudflareAccessConfig = {
  /** The team domain's origin, e.g. `https://acme.cloudflareaccess.com`; also the token issuer. */
  teamDomain: string;
  /** Where Access publishes its signing keys. */
  certsUrl: string;
  /** Where Access serves the identity behind a session. */
  identityUrl: string;
  /** The AUD tags a token may carry; one shared tag is enough. */
  audiences: string[];
  jwtHeaderName: string;
  authorizationCookieName: string;
  clockToleranceSeconds: number;
  serviceTokens: CloudflareAccessServiceToken[];
  /** How long a get-identity call may take before the token's own claims are used. */
  identityTimeoutMs: number;
  /** How long get-identity's answer is trusted before the session is checked again. */
  sessionCheckIntervalMs: number;
  /** Backstage Group refs by Access group id or group email (keyed by `accessGroupEntryKey`), from `accessGroups`. */
  accessGroups: Map<string, string[]>;
  /** How long a resolved sign-in is reused for the same Access session; 0 disables. */
  signInCacheSeconds: number;
  /** Tells apart two deployments of one Access application that share a cache store. */
  cacheNamespace?: string;
};

/**
 * Reads and checks the `auth.providers.cfaccess` config; throws naming the
 * key at fault. Read once per provider (`createProviderContext`).
 */
export function readCloudflareAccessConfig(
  config: Config,
): CloudflareAccessConfig {
  const teamDomain = readTeamDomain(config);
  const audiences = readAudiences(config);
  return {
    teamDomain,
    certsUrl: `${teamDomain}${ACCESS_CERTS_PATH}`,
    identityUrl: `${teamDomain}${ACCESS_GET_IDENTITY_PATH}`,
    audiences,
    jwtHeaderName:
      config.getOptionalString('jwtHeaderName') ?? ACCESS_JWT_HEADER,
    authorizationCookieName:
      config.getOptionalString('authorizationCookieName') ?? ACCESS_COOKIE,
    clockToleranceSeconds: readSeconds(config, 'clockTolerance', {
      default: 30,
      max: 300,
      fix: 'A few seconds to a minute covers clock drift; the default is 30s.',
    }),
    serviceTokens: readServiceTokens(config, audiences),
    identityTimeoutMs:
      readSeconds(config, 'identityTimeout', {
        default: 5,
        min: 0.1,
        max: 60,
        fix: 'The default is 5s; past it, sign-in goes on with the token claims.',
      }) * 1000,
    sessionCheckIntervalMs:
      readSeconds(config, 'sessionCheckInterval', {
        default: 60,
        min: 1,
        max: 24 * 60 * 60,
        fix: 'The default is 60s: an Access session that ended is refused within that time.',
      }) * 1000,
    accessGroups: readCloudflareAccessGroups(config),
    signInCacheSeconds: readSeconds(config, 'signInCacheDuration', {
      default: 60,
      max: 900,
      fix: 'The default is 60s; 0 resolves every refresh against the catalog.',
    }),
    cacheNamespace: config.getOptionalString('cacheNamespace'),
  };
}

/**
 * Whether `catalog.rules` lets every location, those anyone signed in can
 * register through the catalog API among them, add User entities (a rule
 * that allows `User` with no `locations`).
 */
export function catalogRulesAllowUsersEverywhere(rootConfig: Config): boolean {
  return (rootConfig.getOptionalConfigArray('catalog.rules') ?? []).some(
    rule =>
      !rule.has('locations') &&
      (rule.getOptionalStringArray('allow') ?? []).some(
        kind => kind.toLowerCase() === 'user',
      ),
  );
}

/** Said at start when provisioning is on and `catalog.rules` lets anyone register a User. */
export const PROVISIONING_RULES_WARNING =
  'provisionUsers is on and catalog.rules allows User entities from every location, so anyone signed in can register a User through the catalog API; allow User and Group only on your org locations, as create-app does (catalog.rules: [{ allow: [Component, System, API, Resource, Location] }] plus rules: [{ allow: [User, Group] }] on the org location)';
