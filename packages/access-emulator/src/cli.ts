import { parseArgs } from 'node:util';
import { startAccessEmulator } from './emulator';
import type {
  AccessEmulatorOptions,
  AccessEmulatorServiceToken,
} from './types';

export const USAGE = `Usage: access-emulator --audience <tag> [options]

A local stand-in for the Cloudflare Access edge: a login page, app tokens,
certs, get-identity, service tokens, logout and key rotation, in front of
your application.

Options:
  --audience <tag>           AUD tag put in every token's "aud" (required; repeat for more)
  --upstream <url>           application to reverse-proxy to, e.g. http://localhost:3000
                             (without it, signed-in requests get a JSON echo of the headers)
  --route <prefix>=<url>[,<url>...]
                             send paths starting with <prefix> to another upstream (several: in turn), like a
                             Cloudflare Tunnel ingress rule, e.g. /api/=http://localhost:7007
                             (repeatable; the longest matching prefix wins)
  --port <n>                 port to listen on (default 0: any free port)
  --host <name>              host to listen on and to use in the URL (default 127.0.0.1)
  --issuer <url>             the "iss" of every token, when clients reach the emulator under
                             another team domain name (default: the emulator's own URL)
  --catalog <path>           Backstage catalog YAML file or directory of them (repeatable)
  --service-token <id:secret>
                             accepted CF-Access-Client-Id and -Secret pair (repeatable)
  --token-lifetime <s>       app token lifetime in seconds (default 3600)
  --session-duration <s>     Access session duration in seconds (default 86400)
  --rotate-every <s>         rotate signing keys every <s> seconds (default: never)
  --country <code>           country claim and get-identity geo (default GB)
  -h, --help                 show this help

Example:
  access-emulator --upstream http://localhost:3000 --port 7000 --audience local-aud --catalog examples/
`;

export class UsageError extends Error {}

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new UsageError(
      `--${flag} must be a positive whole number of seconds, got "${value}"`,
    );
  }
  return number;
}

function route(value: string): [string, string | string[]] {
  const separator = value.indexOf('=');
  const prefix = value.slice(0, separator);
  const targets = value.slice(separator + 1).split(',');
  if (
    separator <= 0 ||
    !prefix.startsWith('/') ||
    !targets.every(target => /^https?:\/\/[^/]/.test(target))
  ) {
    throw new UsageError(
      `--route must look like /path/=http://host:port (or /path/=http://a:1,http://b:2 to take them in turn), got "${value}"`,
    );
  }
  return [prefix, targets.length === 1 ? targets[0] : targets];
}

function serviceToken(value: string): AccessEmulatorServiceToken {
  const separator = value.indexOf(':');
  if (separator <= 0 || separator === value.length - 1) {
    throw new UsageError(
      `--service-token must look like <client id>:<client secret>, got "${value}"`,
    );
  }
  return {
    clientId: value.slice(0, separator),
    clientSecret: value.slice(separator + 1),
  };
}

/** Turns command-line arguments into emulator options, or `help` when usage was asked for. */
export function parseCliArgs(argv: string[]): AccessEmulatorOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        audience: { type: 'string', multiple: true },
        upstream: { type: 'string' },
        route: { type: 'string', multiple: true },
        port: { type: 'string' },
        host: { type: 'string' },
        issuer: { type: 'string' },
        catalog: { type: 'string', multiple: true },
        'service-token': { type: 'string', multiple: true },
        'token-lifetime': { type: 'string' },
        'session-duration': { type: 'string' },
        'rotate-every': { type: 'string' },
        country: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(
      error instanceof Error ? error.message : String(error),
    );
  }
  if (values.help) {
    return 'help';
  }
  if (!values.audience?.length) {
    throw new UsageError(
      '--audience is required: the AUD tag your Backstage config expects',
    );
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (
    port !== undefined &&
    !(Number.isInteger(port) && port >= 0 && port <= 65535)
  ) {
    throw new UsageError(`--port must be a port number, got "${values.port}"`);
  }
  return {
    audience: values.audience,
    upstream: values.upstream,
    routes: values.route
      ? Object.fromEntries(values.route.map(route))
      : undefined,
    port,
    host: values.host,
    issuer: values.issuer,
    catalog: values.catalog,
    serviceTokens: values['service-token']?.map(serviceToken),
    tokenLifetimeSeconds: seconds('token-lifetime', values['token-lifetime']),
    sessionDurationSeconds: seconds(
      'session-duration',
      values['session-duration'],
    ),
    keyRotationIntervalSeconds: seconds('rotate-every', values['rotate-every']),
    country: values.country,
  };
}

/** Runs the emulator until Ctrl-C or SIGTERM. */
export async function runCli(argv: string[]): Promise<void> {
  let options: AccessEmulatorOptions | 'help';
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`access-emulator: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }

  const log = (line: string) => console.log(`[access-emulator] ${line}`);
  const emulator = await startAccessEmulator({ ...options, logger: log });
  const routes = Object.entries(options.routes ?? {}).map(
    ([prefix, url]) => `, ${prefix} -> ${[url].flat().join(' | ')}`,
  );
  const target =
    (options.upstream ??
      '(no upstream: signed-in requests get a JSON echo of their headers)') +
    routes.join('');
  console.log(
    `Cloudflare Access emulator on ${emulator.url} -> ${target} (team domain for auth.providers.cfaccess.teamDomain)`,
  );
  log(
    `audience ${emulator.audience.join(', ')}; certs at ${emulator.certsUrl}`,
  );

  const stop = (signal: string) => {
    log(`${signal}: closing`);
    emulator.close().then(
      () => process.exit(0),
      error => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
