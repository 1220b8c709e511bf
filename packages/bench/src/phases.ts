// A devDependency on purpose: only the bench uses it.
// eslint-disable-next-line @backstage/no-undeclared-imports
import autocannon from 'autocannon';
import type { AccessEmulator } from '@cfaccess/access-emulator';

export const ACCESS_HEADER = 'cf-access-jwt-assertion';
export const CONNECTIONS = 8;

/**
 * warm: one session's refreshes; fresh: new sessions of known people;
 * new-person: first sign-ins; no-token and garbage-token: refusals; ceiling:
 * the backend's cheapest route (liveness), what no refresh can beat.
 */
export const PHASE_NAMES = [
  'warm',
  'fresh',
  'new-person',
  'no-token',
  'garbage-token',
  'ceiling',
] as const;

/** What a garbage-token phase sends: not a JWT at all, as a scanner would. */
export const GARBAGE_TOKEN = 'not-a-token.%20garbage';
export type PhaseName = (typeof PHASE_NAMES)[number];

/**
 * What a slice of a phase sends: no token, one token on every request, or
 * each token once (`used` counts those sent).
 */
export type PhaseTokens =
  | { kind: 'none' }
  | { kind: 'same'; token: string }
  | { kind: 'each'; tokens: string[]; used: number };

/** What one slice of a phase measured. */
export interface Slice {
  seconds: number;
  /** Response times in ms, every status. */
  latencies: number[];
  statusCounts: Record<string, number>;
  /** Requests that got no answer (connection errors, timeouts). */
  errors: number;
  identityCalls: number;
  certsCalls: number;
  /** CPU the backend process used meanwhile, when known. */
  backendCpuSeconds?: number;
  /** The first body answered with each status other than 2xx. */
  samples: Record<string, string>;
}

export interface PhaseResult {
  phase: PhaseName;
  seconds: number;
  responses: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  statusCounts: Record<string, number>;
  non2xx: number;
  errors: number;
  identityCalls: number;
  certsCalls: number;
  distinctSessions: number;
  /** Backend CPU per response, in ms: steadier than req/s on a shared machine. */
  backendCpuMsPerResponse?: number;
  samples: Record<string, string>;
}

export interface PhaseTarget {
  url: string;
  emulator: AccessEmulator;
  backendCpuSeconds(): number | undefined;
}

/**
 * Drives GET <url> with autocannon for `seconds`, or until an 'each' phase
 * runs out of tokens, and counts what the emulator served meanwhile.
 */
export async function runSlice(
  target: PhaseTarget,
  tokens: PhaseTokens,
  seconds: number,
): Promise<Slice> {
  const samples: Record<string, string> = {};
  const request: autocannon.Request = {
    method: 'GET',
    onResponse(status: number, body: string) {
      if ((status < 200 || status > 299) && !(status in samples)) {
        samples[status] = body;
      }
    },
  };
  if (tokens.kind === 'same') {
    request.headers = { [ACCESS_HEADER]: tokens.token };
  }
  if (tokens.kind === 'each') {
    // autocannon builds one request per request sent, and stops at `amount`: no token goes twice.
    request.setupRequest = req => ({
      ...req,
      headers: { [ACCESS_HEADER]: tokens.tokens[tokens.used++] },
    });
  }

  target.emulator.resetCounts();
  const cpuBefore = target.backendCpuSeconds();
  let started = 0;
  let lastResponse = 0;
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url: target.url,
        connections: CONNECTIONS,
        duration: seconds,
        // With amount set autocannon ignores duration; the timer below bounds it.
        amount: tokens.kind === 'each' ? tokens.tokens.length : undefined,
        timeout: 10,
        requests: [request],
      },
      (error, finished) => (error ? fail(error) : done(finished)),
    );
    const timer = setTimeout(() => instance.stop(), seconds * 1000);
    instance.on('start', () => {
      started = Date.now();
    });
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastResponse = Date.now();
    });
    instance.on('done', () => clearTimeout(timer));
  });
  const cpuAfter = target.backendCpuSeconds();

  return {
    seconds: Math.max(lastResponse - started, 1) / 1000,
    latencies,
    statusCounts: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [
        code,
        count ?? 0,
      ]),
    ),
    errors: result.errors,
    identityCalls: target.emulator.requestCount('identity'),
    certsCalls: target.emulator.requestCount('certs'),
    backendCpuSeconds:
      cpuBefore === undefined || cpuAfter === undefined
        ? undefined
        : cpuAfter - cpuBefore,
    samples,
  };
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[
    Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)
  ];
}

const sum = (values: number[]) =>
  values.reduce((total, value) => total + value, 0);

function distinctSessions(tokens: PhaseTokens[]): number {
  const tokensSent = tokens.map(sent => {
    if (sent.kind === 'none') {
      return [];
    }
    return sent.kind === 'same'
      ? [sent.token]
      : sent.tokens.slice(0, sent.used);
  });
  return new Set(tokensSent.flat()).size;
}

/** One phase's figures from its slices, as if it had run in one go. */
export function summarize(
  phase: PhaseName,
  tokens: PhaseTokens[],
  slices: Slice[],
): PhaseResult {
  const latencies = slices
    .flatMap(slice => slice.latencies)
    .sort((a, b) => a - b);
  const responses = latencies.length;
  const seconds = sum(slices.map(slice => slice.seconds));
  const statusCounts: Record<string, number> = {};
  for (const slice of slices) {
    for (const [code, count] of Object.entries(slice.statusCounts)) {
      statusCounts[code] = (statusCounts[code] ?? 0) + count;
    }
  }
  const cpu = slices.map(slice => slice.backendCpuSeconds);
  return {
    phase,
    seconds,
    responses,
    requestsPerSecond: responses / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    statusCounts,
    non2xx: sum(
      Object.entries(statusCounts)
        .filter(([code]) => !code.startsWith('2'))
        .map(([, count]) => count),
    ),
    errors: sum(slices.map(slice => slice.errors)),
    identityCalls: sum(slices.map(slice => slice.identityCalls)),
    certsCalls: sum(slices.map(slice => slice.certsCalls)),
    distinctSessions: distinctSessions(tokens),
    backendCpuMsPerResponse:
      cpu.some(value => value === undefined) || responses === 0
        ? undefined
        : (sum(cpu as number[]) * 1000) / responses,
    samples: Object.assign({}, ...slices.map(slice => slice.samples).reverse()),
  };
}
