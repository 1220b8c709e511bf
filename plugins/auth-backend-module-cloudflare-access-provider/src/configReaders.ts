/** Readers of the provider config's keys, each throwing an error that names the key at fault and the fix. */
import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import { cloudflareAccessConfigError } from '@cfaccess/plugin-cloudflare-access-node';
import { CloudflareAccessServiceToken } from './types';

// Cloudflare team names are DNS labels.
const TEAM_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function readTeamDomain(config: Config): string {
  const teamDomain = config.getOptionalString('teamDomain');
  if (teamDomain !== undefined) {
    let url: URL;
    try {
      url = new URL(teamDomain);
    } catch {
      throw cloudflareAccessConfigError(
        'teamDomain',
        `is not a URL`,
        'Set it to your team domain, e.g. https://acme.cloudflareaccess.com (Zero Trust dashboard, Settings > Custom Pages > Team domain).',
      );
    }
    const secure =
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    if (!secure || url.pathname !== '/' || url.search || url.hash) {
      throw cloudflareAccessConfigError(
        'teamDomain',
        'must be an https:// origin with no path (http:// only for a local emulator on localhost)',
        'Set it to your team domain, e.g. https://acme.cloudflareaccess.com.',
      );
    }
    return url.origin;
  }
  const teamName = config.getOptionalString('teamName');
  if (teamName === undefined) {
    throw cloudflareAccessConfigError(
      'teamName',
      'is missing',
      'Set it to your Zero Trust team name (the <team> in <team>.cloudflareaccess.com, Zero Trust dashboard, Settings > Custom Pages > Team domain), or set teamDomain to the full URL.',
    );
  }
  if (!TEAM_NAME.test(teamName)) {
    throw cloudflareAccessConfigError(
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
    throw cloudflareAccessConfigError(
      key,
      'must be a non-empty string or list of strings',
      fix,
    );
  }
  return list as string[];
}

const AUDIENCE_FIX =
  'Set it to the Application Audience (AUD) tag of your Access application (Zero Trust dashboard, Access > Applications > your app > Overview), or a list of tags.';

export function readAudiences(config: Config): string[] {
  const audiences = readStringList(config, 'audience', AUDIENCE_FIX);
  if (!audiences) {
    throw cloudflareAccessConfigError('audience', 'is missing', AUDIENCE_FIX);
  }
  return audiences;
}

export function readServiceTokens(
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
      throw cloudflareAccessConfigError(
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

/** Reads an optional duration key as seconds, within bounds an operator can rely on. */
export function readSeconds(
  config: Config,
  key: string,
  bounds: { default: number; max: number; min?: number; fix: string },
): number {
  if (!config.has(key)) {
    return bounds.default;
  }
  const min = bounds.min ?? 0;
  // A plain 0 reads naturally as "off"; other numbers have no unit, so they are refused.
  if (config.getOptional(key) === 0 && min === 0) {
    return 0;
  }
  let seconds: number;
  try {
    seconds =
      durationToMilliseconds(readDurationFromConfig(config, { key })) / 1000;
  } catch {
    throw cloudflareAccessConfigError(
      key,
      'is not a duration',
      `Use e.g. 30s, 5m or { seconds: 30 }. ${bounds.fix}`,
    );
  }
  if (!(seconds >= min && seconds <= bounds.max)) {
    throw cloudflareAccessConfigError(
      key,
      `must be between ${min} and ${bounds.max} seconds`,
      bounds.fix,
    );
  }
  return seconds;
}

// Read once per config object: the authenticator and the sign-in resolvers both need it.
