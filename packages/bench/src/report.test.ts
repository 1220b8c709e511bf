import { summarize } from './phases';
import type { PhaseName, Slice } from './phases';
import { ratioLines, resultTable } from './report';
import type { ModuleRun } from './report';

function slice(overrides: Partial<Slice>): Slice {
  return {
    seconds: 5,
    latencies: [],
    statusCounts: {},
    errors: 0,
    identityCalls: 0,
    certsCalls: 0,
    backendCpuSeconds: 1,
    samples: {},
    ...overrides,
  };
}

describe('summarize', () => {
  it('adds slices up as one phase', () => {
    const tokens = { kind: 'each' as const, tokens: ['a', 'b', 'c'], used: 2 };
    const more = { kind: 'each' as const, tokens: ['d', 'e'], used: 1 };
    const result = summarize(
      'fresh',
      [tokens, more],
      [
        slice({
          latencies: [1, 2, 3, 4],
          statusCounts: { '200': 4 },
          identityCalls: 2,
        }),
        slice({
          latencies: [5, 6, 7, 8, 9, 100],
          statusCounts: { '200': 5, '500': 1 },
          identityCalls: 1,
          samples: { '500': 'boom' },
        }),
      ],
    );
    expect(result).toMatchObject({
      responses: 10,
      seconds: 10,
      requestsPerSecond: 1,
      p50: 5,
      p99: 100,
      statusCounts: { '200': 9, '500': 1 },
      non2xx: 1,
      identityCalls: 3,
      distinctSessions: 3,
      backendCpuMsPerResponse: 200,
      samples: { '500': 'boom' },
    });
  });

  it('counts one session for a phase that repeats one token', () => {
    const same = { kind: 'same' as const, token: 't' };
    const result = summarize('warm', [same, same], [slice({}), slice({})]);
    expect(result.distinctSessions).toBe(1);
  });
});

describe('report', () => {
  const phase = (name: PhaseName, rate: number, cpuMs: number) => ({
    ...summarize(
      name,
      [{ kind: 'none' }],
      [
        slice({
          latencies: Array(rate * 5).fill(1),
          statusCounts: { '200': rate * 5 },
        }),
      ],
    ),
    backendCpuMsPerResponse: cpuMs,
  });

  it('prints ratios with their targets, met or missed, and n/a when not measured', () => {
    const runs: ModuleRun[] = [
      {
        module: 'ours',
        phases: [
          phase('warm', 90, 1),
          phase('fresh', 10, 10),
          phase('no-token', 100, 0.5),
          phase('ceiling', 120, 0.4),
        ],
      },
      {
        module: 'upstream',
        phases: [phase('no-token', 60, 1), phase('ceiling', 100, 0.5)],
      },
    ];
    expect(ratioLines(runs)).toEqual([
      'ours warm / ours ceiling: 0.75 (req/s, 0.40 by backend CPU per request); ' +
        'target >= 0.9: MISSED',
      // 100/120 over 60/100
      'ours no-token / ceiling, over upstream no-token / ceiling: 1.39 (req/s); target >= 1: met',
      'ours garbage-token / ceiling, over upstream garbage-token / ceiling: n/a (target >= 1: not measured)',
      'ours no-token / ours ceiling: 0.83 (req/s, 0.80 by backend CPU per request)',
      'upstream no-token / upstream ceiling: 0.60 (req/s, 0.50 by backend CPU per request)',
      'ours warm / ours no-token: 0.90 (req/s, 0.50 by backend CPU per request); ' +
        'target >= 0.8: met',
      'ours fresh / upstream fresh: n/a (target >= 1: not measured)',
      'ours warm / upstream warm: n/a',
      'ours new-person / upstream new-person: n/a',
    ]);
    expect(resultTable(runs)).toContain('| upstream | warm | not measured |');
    expect(resultTable(runs)).toContain(
      '| ours | garbage-token | not measured |',
    );
    expect(resultTable(runs)).toContain('| ours | new-person | not measured |');
  });
});
