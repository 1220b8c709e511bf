import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import { CloudflareAccessServiceToken } from './types';

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
};

const PREFIX = 'auth.providers.cfaccess';
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
// Cloudflare team names are DNS labels.
const TEAM_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function configError(key: string, problem: string, fix: string): Error {
  return new Error(
    `Invalid Cloudflare Access config: ${PREFIX}.${key} ${problem}. ${fix}`,
  );
}

function readTeamDomain(config: Config): string {
  const teamDomain = config.getOptionalString('teamDomain');
  if (teamDomain !== undefined) {
    let url: URL;
    try {
      url = new URL(teamDomain);
    } catch {
      throw configError(
        'teamDomain',
        `is not a URL`,
        'Set it to your team domain, e.g. https://acme.cloudflareaccess.com (Zero Trust dashboard, Settings > Custom Pages > Team domain).',
      );
    }
    const secure =
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    if (!secure || url.pathname !== '/' || url.search || url.hash) {
      throw configError(
        'teamDomain',
        'must be an https:// origin with no path (http:// only for a local emulator on localhost)',
        'Set it to your team domain, e.g. https://acme.cloudflareaccess.com.',
      );
    }
    return url.origin;
  }
  const teamName = config.getOptionalString('teamName');
  if (teamName === undefined) {
    throw configError(
      'teamName',
      'is missing',
      'Set it to your Zero Trust team name (the <team> in <team>.cloudflareaccess.com, Zero Trust dashboard, Settings > Custom Pages > Team domain), or set teamDomain to the full URL.',
    );
  }
  if (!TEAM_NAME.test(teamName)) {
    throw configError(
      'teamName',
      'is not a team name',
      'Use only the <team> part of <team>.cloudflareaccess.com (letters, digits and hyphens), or set teamDomain to the full URL.',
    );
  }
  return `https://${teamName.toLowerCase()}.cloudflareaccess.com`;
}

function readStringList(
  config: Config,
  key: string,
  fix: string,
): string[] | undefined {
  const value = config.getOptional(key);
  if (value === undefined) {
    return undefined;
  }
  const list = Array.isArray(value) ? value : [value];
  if (
    list.length === 0 ||
    !list.every(item => typeof item === 'string' && item.trim() !== '')
  ) {
    throw configError(key, 'must be a non-empty string or list of strings', fix);
  }
  return list as string[];
}

const AUDIENCE_FIX =
  'Set it to the Application Audience (AUD) tag of your Access application (Zero Trust dashboard, Access > Applications > your app > Overview), or a list of tags.';

function readAudiences(config: Config): string[] {
  const audiences = readStringList(config, 'audience', AUDIENCE_FIX);
  if (!audiences) {
    throw configError('audience', 'is missing', AUDIENCE_FIX);
  }
  return audiences;
}

function readServiceTokens(
  config: Config,
  audiences: string[],
): CloudflareAccessServiceToken[] {
  const entries = config.getOptionalConfigArray('serviceTokens') ?? [];
  return entries.map((entry, index) => {
    const key = `serviceTokens[${index}]`;
    const audience = readStringList(
      entry,
      'audience',
      'List some of the configured audiences, or leave it out.',
    );
    const unknown = audience?.filter(tag => !audiences.includes(tag));
    if (unknown?.length) {
      throw configError(
        `${key}.audience`,
        'names a tag that is not in audience',
        'A service token can only be restricted to audiences this provider accepts.',
      );
    }
    return {
      token: entry.getString('token'),
      subject: entry.getString('subject'),
      ownershipEntityRefs: entry.getOptionalStringArray('ownershipEntityRefs'),
      audience,
    };
  });
}

function readClockToleranceSeconds(config: Config): number {
  if (!config.has('clockTolerance')) {
    return DEFAULT_CLOCK_TOLERANCE_SECONDS;
  }
  const seconds =
    durationToMilliseconds(
      readDurationFromConfig(config, { key: 'clockTolerance' }),
    ) / 1000;
  if (!(seconds >= 0 && seconds <= 300)) {
    throw configError(
      'clockTolerance',
      'must be between 0 and 5 minutes',
      'A few seconds to a minute covers clock drift; the default is 30s.',
    );
  }
  return seconds;
}

/** Reads and checks the `auth.providers.cfaccess` config; throws naming the key at fault. */
export function readCloudflareAccessConfig(
  config: Config,
): CloudflareAccessConfig {
  const teamDomain = readTeamDomain(config);
  const audiences = readAudiences(config);
  return {
    teamDomain,
    certsUrl: `${teamDomain}/cdn-cgi/access/certs`,
    identityUrl: `${teamDomain}/cdn-cgi/access/get-identity`,
    audiences,
    jwtHeaderName:
      config.getOptionalString('jwtHeaderName') ?? 'cf-access-jwt-assertion',
    authorizationCookieName:
      config.getOptionalString('authorizationCookieName') ?? 'CF_Authorization',
    clockToleranceSeconds: readClockToleranceSeconds(config),
    serviceTokens: readServiceTokens(config, audiences),
  };
}
