/** The `cfaccess-explain` command: reads config and a token, prints the verdict of explainCloudflareAccessToken. */
import { parseArgs } from 'node:util';
import { ConfigSources } from '@backstage/config-loader';
import { CloudflareAccessNotAllowedReason } from './errors';
import { NOT_ALLOWED_FIXES } from './refusals';
import { explainCloudflareAccessToken } from './explain';

export const USAGE = `Usage: cfaccess-explain [--config <file>]... [--backend <url>] [--provider <id>] <token | ->

Says whether this Backstage would accept a Cloudflare Access token, and if
not, which check failed and what to change. Paste the CF_Authorization cookie
or the Cf-Access-Jwt-Assertion header value as <token>, or "-" to read it from
standard input (keeps it out of the shell history).

Options:
  --config <file>    Backstage config file (repeatable; default app-config.yaml
                     and app-config.local.yaml in the current directory)
  --backend <url>    also ask this running backend (e.g. http://localhost:7007)
                     to sign the token in: finds catalog users and resolver refusals
  --provider <id>    the provider id (default cfaccess)
  -h, --help         show this help

Exit code: 0 accepted, 1 refused, 2 usage or config error.
`;

type Output = { write(text: string): void };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isNotAllowedReason(
  reason: unknown,
): reason is CloudflareAccessNotAllowedReason {
  return typeof reason === 'string' && Object.hasOwn(NOT_ALLOWED_FIXES, reason);
}

/** Signs the token in at the running backend: the part only the catalog can answer. */
async function askBackend(
  backend: string,
  provider: string,
  token: string,
  jwtHeaderName: string,
): Promise<{ accepted: boolean; lines: string[] }> {
  const url = new URL(`/api/auth/${provider}/refresh`, backend);
  const response = await fetch(url, {
    headers: { [jwtHeaderName]: token },
    signal: AbortSignal.timeout(15000),
  });
  const body = (await response.json().catch(() => ({}))) as {
    backstageIdentity?: {
      identity?: { userEntityRef?: string; ownershipEntityRefs?: string[] };
    };
    error?: { message?: string; reason?: string };
  };
  const identity = body.backstageIdentity?.identity;
  if (response.ok && identity) {
    return {
      accepted: true,
      lines: [
        `Backstage at ${backend} signs it in as ${identity.userEntityRef}`,
        `  owns: ${(identity.ownershipEntityRefs ?? []).join(', ')}`,
      ],
    };
  }
  return {
    accepted: false,
    lines: [
      `Backstage at ${backend} refuses it: HTTP ${response.status}${
        body.error?.reason ? ` (${body.error.reason})` : ''
      }`,
      `  ${body.error?.message ?? 'no explanation in the response'}`,
      ...(isNotAllowedReason(body.error?.reason)
        ? [
            `  for the administrator: ${
              NOT_ALLOWED_FIXES[body.error.reason]
            }; the backend's log line for this refusal (audit event cfaccess-sign-in) has the specifics`,
          ]
        : []),
    ],
  };
}

/** Runs the command; returns its exit code. */
export async function runExplainCli(
  argv: string[],
  out: Output = process.stdout,
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', multiple: true },
        backend: { type: 'string' },
        provider: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    out.write(`cfaccess-explain: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    out.write(`cfaccess-explain: give exactly one token, or -\n\n${USAGE}`);
    return 2;
  }
  const token =
    positionals[0] === '-' ? (await readStdin()).trim() : positionals[0];
  const provider = values.provider ?? 'cfaccess';

  const env = options.env ?? process.env;
  let providerConfig;
  try {
    const config = await ConfigSources.toConfig(
      ConfigSources.default({
        rootDir: options.cwd ?? process.cwd(),
        argv: (values.config ?? []).flatMap(path => ['--config', path]),
        env,
        substitutionFunc: async name => env[name]?.trim(),
      }),
    );
    config.close();
    providerConfig = config.getOptionalConfig(`auth.providers.${provider}`);
  } catch (error) {
    out.write(
      // One line: a YAML error's message goes on with the offending text.
      `cfaccess-explain: cannot read the config: ${
        (error as Error).message.split('\n')[0]
      }\n`,
    );
    return 2;
  }
  if (!providerConfig) {
    out.write(
      `cfaccess-explain: cannot read the config: there is no auth.providers.${provider} in it\n`,
    );
    return 2;
  }

  const explanation = await explainCloudflareAccessToken({
    config: providerConfig,
    token,
  });
  if (explanation.reason === 'config') {
    out.write(`${explanation.summary}\n`);
    return 2;
  }
  out.write(
    explanation.accepted
      ? `OK ${explanation.summary}\n`
      : `REFUSED (${explanation.reason}) ${explanation.summary}\n`,
  );
  for (const line of explanation.details) {
    out.write(`  ${line}\n`);
  }
  if (!explanation.accepted || !values.backend) {
    return explanation.accepted ? 0 : 1;
  }
  const verdict = await askBackend(
    values.backend,
    provider,
    token,
    providerConfig.getOptionalString('jwtHeaderName') ??
      'cf-access-jwt-assertion',
  ).catch(error => ({
    accepted: false,
    lines: [
      `Backstage at ${values.backend} did not answer: ${
        (error as Error).message
      }`,
    ],
  }));
  for (const line of verdict.lines) {
    out.write(`${line}\n`);
  }
  return verdict.accepted ? 0 : 1;
}
