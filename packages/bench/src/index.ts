import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessModule } from './backendProcess';
import { generatedPerson as newPerson, writeCatalog } from './catalog';
import { Cleanup } from './cleanup';
import {
  ACCESS_HEADER,
  CONNECTIONS,
  GARBAGE_TOKEN,
  PHASE_NAMES,
  runSlice,
  summarize,
} from './phases';
import type { PhaseName, PhaseTokens, Slice } from './phases';
import { identityNotes, ratioLines, resultTable } from './report';
import type { ModuleRun } from './report';
import { startTarget } from './target';
import type { Target } from './target';

/** The catalog Users of examples/org.yaml that have an email. */
const PEOPLE = ['ada', 'grace', 'linus', 'ci-bot'];
/** Enough that none repeats within a fresh phase; a slice stops early if its share runs out. */
const FRESH_SESSIONS = 3000;
/** Users added to the catalog for the new-person phase, each signed in once: a slice may run out. */
const NEW_PEOPLE = 1500;
const MODULES: AccessModule[] = ['ours', 'upstream'];
const PHASES: readonly PhaseName[] = PHASE_NAMES;
/** Each phase runs in ROUNDS slices of SLICE_SECONDS per module, the modules taking turns. */
const ROUNDS = 5;
const SLICE_SECONDS = 2;

class BenchFailure extends Error {}

/** A module ready to be measured: its target, the sessions its phases send, what they measured. */
interface Contender {
  run: ModuleRun;
  target: Target;
  /** Stops this module's backend, emulator and proxy. */
  stack: Cleanup;
  warmToken: string;
  /** FRESH_SESSIONS new sessions of PEOPLE, one share per round. */
  freshTokens: string[][];
  /** One session of each of the NEW_PEOPLE, one share per round. */
  newPersonTokens: string[][];
  sent: Map<PhaseName, PhaseTokens[]>;
  slices: Map<PhaseName, Slice[]>;
}

const userRef = (person: string) => `user:default/${person}`;
const short = (text: string, max = 300) =>
  text.length > max ? `${text.slice(0, max)}...` : text;

async function refresh(url: string, token?: string) {
  const res = await fetch(url, {
    headers: token ? { [ACCESS_HEADER]: token } : {},
  });
  return { status: res.status, body: await res.text() };
}

/** A 200 for the right person before a slice: the backend verifies tokens for real. */
async function check(
  target: Target,
  phase: PhaseName,
  person: string,
  token: string,
) {
  const { status, body } = await refresh(target.refreshUrl, token);
  let identity: { userEntityRef?: string; ownershipEntityRefs?: string[] } = {};
  try {
    identity = JSON.parse(body).backstageIdentity?.identity ?? {};
  } catch {
    // not JSON: reported below
  }
  if (status !== 200 || identity.userEntityRef !== userRef(person)) {
    const res = await fetch(
      `${target.emulator.url}/cdn-cgi/access/get-identity`,
      {
        headers: { [ACCESS_HEADER]: token },
      },
    );
    throw new BenchFailure(
      `check before ${phase}: expected 200 ${userRef(
        person,
      )}, got ${status} ${short(body)}\n` +
        `  the emulator's get-identity answers ${res.status} ${short(
          await res.text(),
        )} ` +
        'for the same token',
    );
  }
  const ownership = identity.ownershipEntityRefs?.join(', ') || 'none';
  return `${status} ${identity.userEntityRef} (ownership ${ownership})`;
}

/** Checks, then measures one slice of a phase on one module. */
async function runContenderSlice(
  contender: Contender,
  phase: PhaseName,
  round: number,
) {
  const { target } = contender;
  let tokens: PhaseTokens;
  let checked: string;
  if (phase === 'warm') {
    checked = await check(target, phase, 'ada', contender.warmToken);
    tokens = { kind: 'same', token: contender.warmToken };
  } else if (phase === 'fresh') {
    checked = await check(target, phase, 'grace', await target.signIn('grace'));
    tokens = { kind: 'each', tokens: contender.freshTokens[round], used: 0 };
  } else if (phase === 'new-person') {
    checked = await check(target, phase, 'ada', await target.signIn('ada'));
    tokens = {
      kind: 'each',
      tokens: contender.newPersonTokens[round],
      used: 0,
    };
  } else if (phase === 'no-token') {
    checked = await check(target, phase, 'linus', await target.signIn('linus'));
    const refused = await refresh(target.refreshUrl);
    checked += `; without a token ${refused.status}`;
    tokens = { kind: 'none' };
  } else if (phase === 'garbage-token') {
    checked = await check(target, phase, 'linus', await target.signIn('linus'));
    const refused = await refresh(target.refreshUrl, GARBAGE_TOKEN);
    checked += `; with garbage ${refused.status}`;
    tokens = { kind: 'same', token: GARBAGE_TOKEN };
  } else {
    const live = await fetch(target.livenessUrl);
    checked = `liveness ${live.status}`;
    await live.body?.cancel();
    tokens = { kind: 'none' };
  }
  const slice = await runSlice(
    {
      url: phase === 'ceiling' ? target.livenessUrl : target.refreshUrl,
      emulator: target.emulator,
      backendCpuSeconds: target.backend.cpuSeconds,
    },
    tokens,
    SLICE_SECONDS,
  );
  contender.sent.set(phase, [...(contender.sent.get(phase) ?? []), tokens]);
  contender.slices.set(phase, [...(contender.slices.get(phase) ?? []), slice]);
  const responses = slice.latencies.length;
  console.log(
    `round ${round + 1}/${ROUNDS} ${
      target.module
    } ${phase}: check ${checked} -> ` +
      `${(responses / slice.seconds).toFixed(
        0,
      )} req/s over ${slice.seconds.toFixed(1)}s`,
  );
  // A refusal is what is measured there, whatever its status: upstream answers garbage with a 500.
  const answered = Object.keys(slice.statusCounts);
  const expected =
    phase === 'no-token' || phase === 'garbage-token' ? 'a 4xx or 5xx' : '200';
  const refused = answered.some(code => Number(code) >= 400);
  if (expected === '200' ? !slice.statusCounts['200'] : !refused) {
    throw new BenchFailure(
      `${phase} got no ${expected} at all: ${JSON.stringify(
        slice.statusCounts,
      )}, ` + `${slice.errors} without answer`,
    );
  }
}

async function prepare(
  run: ModuleRun,
  stack: Cleanup,
  workDir: string,
  catalogFile: string,
): Promise<Contender> {
  const target = await startTarget({
    module: run.module,
    catalogFile,
    // The last generated User too: the catalog has them all once it has that one.
    catalogUsers: [...PEOPLE, newPerson(NEW_PEOPLE - 1)],
    cleanup: stack,
    workDir,
    onBackendErrors: lines => {
      run.backendErrors = lines;
    },
  });
  console.log(
    `${run.module}: backend ${target.backend.url} up, emulator ${target.emulator.url}`,
  );
  // The warm session's warm-up request, and proof that sign-in works before minting sessions.
  const warmToken = await target.signIn('ada');
  console.log(
    `${run.module} warm-up: ${await check(target, 'warm', 'ada', warmToken)}`,
  );
  const fresh = await Promise.all(
    Array.from({ length: FRESH_SESSIONS }, (_, i) =>
      target.signIn(PEOPLE[i % PEOPLE.length]),
    ),
  );
  const newPeople = await Promise.all(
    Array.from({ length: NEW_PEOPLE }, (_, i) => target.signIn(newPerson(i))),
  );
  const shares = (tokens: string[]) => {
    const share = Math.floor(tokens.length / ROUNDS);
    return Array.from({ length: ROUNDS }, (_, round) =>
      tokens.slice(round * share, (round + 1) * share),
    );
  };
  return {
    run,
    target,
    stack,
    warmToken,
    freshTokens: shares(fresh),
    newPersonTokens: shares(newPeople),
    sent: new Map(),
    slices: new Map(),
  };
}

function failed(run: ModuleRun, error: unknown) {
  run.failure = error instanceof Error ? error.message : String(error);
  console.log(`${run.module}: FAILED: ${run.failure}`);
}

function printReport(runs: ModuleRun[]): void {
  console.log(
    `\n## Results: per phase ${ROUNDS} slices of at most ${SLICE_SECONDS}s, ` +
      `${CONNECTIONS} connections\n`,
  );
  console.log(resultTable(runs));
  console.log('');
  for (const line of ratioLines(runs)) {
    console.log(line);
  }
  console.log('');
  for (const note of identityNotes(runs)) {
    console.log(note);
  }
  for (const run of runs) {
    for (const result of run.phases) {
      for (const [status, body] of Object.entries(result.samples)) {
        console.log(
          `${run.module} ${result.phase}: first ${status} answer: ${short(
            body,
          )}`,
        );
      }
    }
    for (const line of run.backendErrors ?? []) {
      console.log(`${run.module} backend logged: ${short(line)}`);
    }
    if (run.failure) {
      console.log(`${run.module}: not fully measured: ${run.failure}`);
    }
  }
}

/** The machine may be shared: its load says how far the figures can be trusted. */
function machineLine(when: string): string {
  const load = loadavg()
    .map(value => value.toFixed(2))
    .join(' ');
  return `machine: ${cpus().length} cores, load average ${load} ${when}`;
}

/**
 * Starts both modules' stacks, then runs every phase in slices, one module
 * right after the other, so that both see the same background load.
 */
async function main(): Promise<number> {
  console.log(machineLine('before the run'));
  const cleanup = new Cleanup();
  const workDir = await mkdtemp(join(tmpdir(), 'cfaccess-bench-'));
  cleanup.add(() => rm(workDir, { recursive: true, force: true }));
  const catalogFile = await writeCatalog(workDir, NEW_PEOPLE);
  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    console.error('bench: interrupted, stopping everything');
    cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const runs: ModuleRun[] = MODULES.map(module => ({ module, phases: [] }));
    const contenders: Contender[] = [];
    for (const run of runs) {
      if (interrupted) {
        return 130;
      }
      // A module that fails stops its stack at once, so it does not weigh on the other.
      const stack = new Cleanup();
      cleanup.add(() => stack.run());
      try {
        contenders.push(await prepare(run, stack, workDir, catalogFile));
      } catch (error) {
        failed(run, error);
        await stack.run();
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const phase of PHASES) {
        for (const contender of contenders.filter(({ run }) => !run.failure)) {
          if (interrupted) {
            return 130;
          }
          try {
            await runContenderSlice(contender, phase, round);
          } catch (error) {
            failed(contender.run, error);
            await contender.stack.run();
          }
        }
      }
    }
    for (const { run, sent, slices } of contenders) {
      run.phases = PHASES.filter(phase => slices.has(phase)).map(phase =>
        summarize(phase, sent.get(phase)!, slices.get(phase)!),
      );
    }
    await cleanup.run();
    printReport(runs);
    console.log(machineLine('after the run'));
    return runs.some(run => run.failure) ? 1 : 0;
  } finally {
    await cleanup.run();
  }
}

main().then(
  code => process.exit(code),
  error => {
    console.error(`bench: ${error instanceof Error ? error.stack : error}`);
    process.exit(1);
  },
);
