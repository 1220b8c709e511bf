/** Explains whether this Backstage would accept an Access token, and why not. */
import { Config } from '@backstage/config';
import { decodeJwt, decodeProtectedHeader, JWTPayload } from 'jose';
import { CloudflareAccessConfig, readCloudflareAccessConfig } from './config';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessRefusalReason,
  CloudflareAccessUnavailableError,
} from './errors';
import { createProviderContext } from './context';
import { MAX_TOKEN_LENGTH } from './verifier';

/**
 * Whether this Backstage would accept an Access token, and if not, which
 * check failed and what to change.
 *
 * @public
 */
export type CloudflareAccessTokenExplanation = {
  accepted: boolean;
  /** The refusal reason code, or `config` when the provider config itself is wrong. */
  reason?: string;
  /** One line: what happens to this token, and the fix. */
  summary: string;
  /** The values behind the verdict (token claims next to the config); for the operator only. */
  details: string[];
};

const iso = (seconds: unknown) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'none';

async function publishedKids(config: CloudflareAccessConfig): Promise<string> {
  try {
    const response = await fetch(config.certsUrl, {
      signal: AbortSignal.timeout(5000),
    });
    const { keys } = (await response.json()) as { keys?: { kid?: string }[] };
    return (keys ?? []).map(key => key.kid).join(', ') || 'none';
  } catch (error) {
    return `unknown (${config.certsUrl} did not answer: ${
      (error as Error).message
    })`;
  }
}

/** What an explanation of one refusal looks at: the token, its unverified claims, the config. */
type Evidence = {
  token: string;
  claims: JWTPayload;
  config: CloudflareAccessConfig;
};

const list = (value: unknown) => [value ?? 'none'].flat().join(', ');

async function keyDetails({ token, claims, config }: Evidence) {
  const { kid, alg } = decodeProtectedHeader(token);
  return [
    `token issuer: ${claims.iss ?? 'none'}`,
    `configured team domain: ${config.teamDomain}`,
    `token key id: ${kid ?? 'none'} (${alg})`,
    `keys the team domain publishes: ${await publishedKids(config)}`,
  ];
}

function clockDetails({ claims, config }: Evidence) {
  return [
    `token not before ${iso(claims.nbf)}, expires ${iso(claims.exp)}`,
    `this machine's clock: ${iso(
      Math.floor(Date.now() / 1000),
    )} (clock tolerance ${config.clockToleranceSeconds}s)`,
  ];
}

const nothingMore = () => [];

/**
 * The token's values next to the config's, for each check that can fail:
 * keyed by reason, so a new reason does not compile without its explanation.
 */
const DETAILS: Record<
  CloudflareAccessRefusalReason,
  (evidence: Evidence) => string[] | Promise<string[]>
> = {
  missing: nothingMore,
  malformed: ({ token }) => [
    `token length ${token.length} (at most ${MAX_TOKEN_LENGTH}); it must be three base64url segments joined by dots, with no spaces or line breaks`,
  ],
  algorithm: ({ token }) => [
    `token algorithm: ${String(
      decodeProtectedHeader(token).alg,
    )} (Access signs with RS256)`,
  ],
  signature: keyDetails,
  unknown_key: keyDetails,
  issuer: keyDetails,
  audience: ({ claims, config }) => [
    `token audience: ${list(claims.aud)}`,
    `configured audience: ${config.audiences.join(', ')}`,
  ],
  expired: clockDetails,
  not_yet_valid: clockDetails,
  token_type: ({ claims }) => [`token type: ${String(claims.type)}`],
  subject: ({ claims }) => [
    `token sub: ${JSON.stringify(
      claims.sub ?? null,
    )}, common_name: ${JSON.stringify(claims.common_name ?? null)}`,
  ],
  service_token: ({ claims, config }) => [
    `service token Client ID: ${String(claims.common_name)}, audience ${list(
      claims.aud,
    )}`,
    `configured service tokens: ${
      config.serviceTokens
        .map(
          entry =>
            `${entry.token}${
              entry.audience ? ` (audience ${entry.audience.join(', ')})` : ''
            }`,
        )
        .join(', ') || 'none'
    }`,
  ],
  session_ended: ({ claims, config }) => [
    `${
      config.identityUrl
    } answered that the Access session (identity_nonce ${String(
      claims.identity_nonce,
    )}) has ended: signed out, expired or revoked`,
  ],
  session_unconfirmed: ({ config }) => [
    `${config.identityUrl} answered 403 or redirected elsewhere than the Access login: something in between (a firewall rule, a proxy) refused the call, so the session is refused until it is checked again (sessionCheckInterval)`,
  ],
  keys_unavailable: ({ config }) => [
    `${config.certsUrl} could not be fetched from this machine`,
  ],
};

/**
 * Runs the module's own token checks on a token, with `config` being the
 * provider config (`auth.providers.cfaccess`), and explains the verdict.
 * The catalog lookup is not part of it: ask the running backend for that.
 *
 * @public
 */
export async function explainCloudflareAccessToken(options: {
  config: Config;
  token: string;
}): Promise<CloudflareAccessTokenExplanation> {
  let config: CloudflareAccessConfig;
  try {
    config = readCloudflareAccessConfig(options.config);
  } catch (error) {
    return {
      accepted: false,
      reason: 'config',
      summary: (error as Error).message,
      details: [],
    };
  }
  const token = options.token.trim();
  if (!token) {
    return {
      accepted: false,
      reason: 'missing',
      summary:
        'No token given; paste the CF_Authorization cookie or the Cf-Access-Jwt-Assertion header',
      details: [],
    };
  }
  let claims: JWTPayload = {};
  try {
    claims = decodeJwt(token);
  } catch {
    // Undecodable: the verifier says so below.
  }
  try {
    const { verifier, identities } = createProviderContext(config);
    const checked = await verifier.check(token);
    const { serviceToken } = checked;
    const identity = serviceToken
      ? undefined
      : await identities.getIdentity(token, checked.claims);
    return {
      accepted: true,
      summary: serviceToken
        ? `Accepted: service token ${serviceToken.token} signs in as ${serviceToken.subject}`
        : `Accepted: ${String(
            claims.email || claims.sub,
          )} passes every token check; the sign-in resolvers then look them up in the catalog`,
      details: [
        `issuer ${claims.iss}, audience ${[claims.aud]
          .flat()
          .join(', ')}, expires ${iso(claims.exp)}`,
        ...(identity
          ? [
              identity.degraded
                ? `get-identity gave no usable identity (unreachable, or not this token's person): sign-in goes on degraded, with no groups`
                : `get-identity: the session is live; groups ${
                    identity.identity.groups
                      .map(({ id, name }) => `${id} (${name})`)
                      .join(', ') || 'none'
                  }`,
            ]
          : []),
      ],
    };
  } catch (error) {
    if (
      !(error instanceof CloudflareAccessAuthenticationError) &&
      !(error instanceof CloudflareAccessUnavailableError)
    ) {
      throw error;
    }
    return {
      accepted: false,
      reason: error.reason,
      summary: error.message,
      details: await DETAILS[error.reason]({ token, claims, config }),
    };
  }
}
