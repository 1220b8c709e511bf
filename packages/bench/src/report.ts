import type { AccessModule } from './backendProcess';
import { PHASE_NAMES } from './phases';
import type { PhaseName, PhaseResult } from './phases';

export interface ModuleRun {
  module: AccessModule;
  phases: PhaseResult[];
  /** Why the run stopped before its last phase. */
  failure?: string;
  /** Error lines from the backend's log, deduplicated. */
  backendErrors?: string[];
}

function phaseOf(runs: ModuleRun[], module: AccessModule, phase: PhaseName) {
  return runs
    .find(run => run.module === module)
    ?.phases.find(result => result.phase === phase);
}

function statuses(result: PhaseResult): string {
  const counts = Object.entries(result.statusCounts).map(
    ([code, count]) => `${code}×${count}`,
  );
  if (result.errors > 0) {
    counts.push(`no answer×${result.errors}`);
  }
  return counts.join(' ') || 'none';
}

/** A markdown table, so a run can be pasted into the README as it is. */
export function resultTable(runs: ModuleRun[]): string {
  const header = [
    'module',
    'phase',
    'req/s',
    'p50 ms',
    'p99 ms',
    'statuses',
    'non-2xx',
    'get-identity',
    'certs',
    'sessions',
    'seconds',
    'backend CPU ms/req',
  ];
  const rows = runs.flatMap(run => {
    const measured = run.phases.map(result => [
      run.module,
      result.phase,
      result.requestsPerSecond.toFixed(0),
      result.p50.toFixed(1),
      result.p99.toFixed(1),
      statuses(result),
      String(result.non2xx),
      String(result.identityCalls),
      String(result.certsCalls),
      String(result.distinctSessions),
      result.seconds.toFixed(1),
      result.backendCpuMsPerResponse?.toFixed(2) ?? 'n/a',
    ]);
    const missing = PHASE_NAMES.filter(
      phase => !run.phases.some(result => result.phase === phase),
    ).map(phase => [
      run.module,
      phase,
      'not measured',
      ...header.slice(3).map(() => ''),
    ]);
    return [...measured, ...missing];
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join(
    '\n',
  );
}

interface Ratio {
  name: string;
  /** Of req/s. */
  value?: number;
  /** The same ratio from the backend's CPU per request (inverted: less CPU is faster). */
  byCpu?: number;
  target?: number;
}

export function ratios(runs: ModuleRun[]): Ratio[] {
  const ratio = (
    name: string,
    [a, b]: [AccessModule, PhaseName][],
    target?: number,
  ): Ratio => {
    const first = phaseOf(runs, ...a);
    const second = phaseOf(runs, ...b);
    const firstCpu = first?.backendCpuMsPerResponse;
    const secondCpu = second?.backendCpuMsPerResponse;
    return {
      name,
      target,
      value:
        first && second
          ? first.requestsPerSecond / second.requestsPerSecond
          : undefined,
      byCpu: firstCpu && secondCpu ? secondCpu / firstCpu : undefined,
    };
  };
  // A refusal path's share of its own backend's ceiling, ours against upstream's, in the same run.
  const refusal = (phase: PhaseName): Ratio => {
    const share = (module: AccessModule) => {
      const refused = phaseOf(runs, module, phase);
      const ceiling = phaseOf(runs, module, 'ceiling');
      return refused && ceiling
        ? refused.requestsPerSecond / ceiling.requestsPerSecond
        : undefined;
    };
    const ours = share('ours');
    const upstream = share('upstream');
    return {
      name: `ours ${phase} / ceiling, over upstream ${phase} / ceiling`,
      target: 1,
      value: ours && upstream ? ours / upstream : undefined,
    };
  };
  return [
    ratio(
      'ours warm / ours ceiling',
      [
        ['ours', 'warm'],
        ['ours', 'ceiling'],
      ],
      0.9,
    ),
    refusal('no-token'),
    refusal('garbage-token'),
    ratio('ours no-token / ours ceiling', [
      ['ours', 'no-token'],
      ['ours', 'ceiling'],
    ]),
    ratio('upstream no-token / upstream ceiling', [
      ['upstream', 'no-token'],
      ['upstream', 'ceiling'],
    ]),
    ratio(
      'ours warm / ours no-token',
      [
        ['ours', 'warm'],
        ['ours', 'no-token'],
      ],
      0.8,
    ),
    ratio(
      'ours fresh / upstream fresh',
      [
        ['ours', 'fresh'],
        ['upstream', 'fresh'],
      ],
      1,
    ),
    ratio('ours warm / upstream warm', [
      ['ours', 'warm'],
      ['upstream', 'warm'],
    ]),
    ratio('ours new-person / upstream new-person', [
      ['ours', 'new-person'],
      ['upstream', 'new-person'],
    ]),
  ];
}

export function ratioLines(runs: ModuleRun[]): string[] {
  return ratios(runs).map(({ name, value, byCpu, target }) => {
    if (value === undefined) {
      return `${name}: n/a${
        target === undefined ? '' : ` (target >= ${target}: not measured)`
      }`;
    }
    const cpu =
      byCpu === undefined
        ? ''
        : `, ${byCpu.toFixed(2)} by backend CPU per request`;
    const verdict =
      target === undefined
        ? ''
        : `; target >= ${target}: ${value >= target ? 'met' : 'MISSED'}`;
    return `${name}: ${value.toFixed(2)} (req/s${cpu})${verdict}`;
  });
}

/** What the get-identity counts say about each module's identity caching. */
export function identityNotes(runs: ModuleRun[]): string[] {
  const notes: string[] = [];
  for (const module of ['ours', 'upstream'] as const) {
    const fresh = phaseOf(runs, module, 'fresh');
    const warm = phaseOf(runs, module, 'warm');
    const newPerson = phaseOf(runs, module, 'new-person');
    if (fresh && warm) {
      notes.push(
        `${module}: warm ${warm.responses} refreshes of one session -> ` +
          `${warm.identityCalls} get-identity calls; fresh ${fresh.distinctSessions} ` +
          `new sessions -> ${fresh.identityCalls} get-identity calls` +
          (newPerson
            ? `; new-person ${newPerson.distinctSessions} sessions of new people -> ` +
              `${newPerson.identityCalls} get-identity calls.`
            : '.'),
      );
    }
  }
  if (phaseOf(runs, 'upstream', 'fresh')) {
    notes.push(
      'upstream keys its identity cache by subject (the token sub) and writes it with ' +
        'no TTL: once a person has signed in, a new Access session of theirs never reaches ' +
        'get-identity again, so new names or groups are not seen until the backend ' +
        'restarts. Ours keys it by Access session (identity_nonce): one get-identity call ' +
        'per new session, none for a known one.',
    );
  }
  return notes;
}
