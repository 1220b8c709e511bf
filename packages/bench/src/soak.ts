/**
 * The soak: minutes of mixed traffic (warm, fresh, new-person, refusals)
 * against one backend of this module with a catalog of 10,000 generated
 * Users, printing the backend's memory every window. Run by hand
 * (`npm run soak`); it prints figures and asserts nothing.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAccessEmulator } from '@cfaccess/access-emulator';
import { startBackend } from './backendProcess';
import type { RunningBackend } from './backendProcess';
import { generatedPerson, writeCatalog } from './catalog';
import { Cleanup } from './cleanup';
import { ACCESS_HEADER, GARBAGE_TOKEN, runSlice, summarize } from './phases';
import type { PhaseName, PhaseTarget, PhaseTokens, Slice } from './phases';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const WINDOW_SECONDS = 30;
/** The first minutes fill the module's bounded caches; flatness is judged after them. */
const WARM_UP_SECONDS = Number(process.env.SOAK_WARM_UP_SECONDS ?? 240);
const CATALOG_USERS = 10_000;
const PEOPLE = ['ada', 'grace', 'linus', 'ci-bot'];
const AUDIENCE = 'soak-aud';
/** Each window gives every phase the same share of its 30 seconds. */
const PHASES: PhaseName[] = [
  'warm',
  'fresh',
  'new-person',
  'no-token',
  'garbage-token',
];
const SLICE_SECONDS = WINDOW_SECONDS / PHASES.length;
/** Sessions minted per window for the phases that send each token once. */
const FRESH_PER_WINDOW = 3000;
const NEW_PEOPLE_PER_WINDOW = 1000;

type Memory = { rss: number; heapUsed: number };
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Asks the backend's memory probe for its memory after a full collection. */
async function memoryOf(
  backend: RunningBackend,
  file: string,
): Promise<Memory> {
  const asked = Date.now();
  process.kill(backend.pid, 'SIGUSR2');
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise(done => setTimeout(done, 100));
    try {
      const sample = JSON.parse(await readFile(file, 'utf8'));
      if (sample.at >= asked) {
        return { rss: sample.rss, heapUsed: sample.heapUsed };
      }
    } catch {
      // not written yet
    }
  }
  throw new Error('the backend did not report its memory');
}

async function main() {
  const cleanup = new Cleanup();
  const workDir = await mkdtemp(join(tmpdir(), 'cfaccess-soak-'));
  cleanup.add(() => rm(workDir, { recursive: true, force: true }));
  process.once('SIGINT', () => cleanup.run().finally(() => process.exit(130)));
  try {
    const catalogFile = await writeCatalog(workDir, CATALOG_USERS);
    const emulator = await startAccessEmulator({
      audience: AUDIENCE,
      catalog: [catalogFile],
    });
    cleanup.add(() => emulator.close());
    const memoryFile = join(workDir, 'memory.json');
    const backend = await startBackend({
      module: 'ours',
      provider: {
        teamDomain: emulator.url,
        audience: AUDIENCE,
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
        },
      },
      catalogFile,
      catalogUsers: [...PEOPLE, generatedPerson(CATALOG_USERS - 1)],
      workDir,
      preload: [require.resolve('./memoryProbe.cjs')],
      nodeArgs: ['--expose-gc'],
      // The catalog takes minutes to ingest 10,000 Users on two cores.
      startTimeoutMs: 15 * 60_000,
      env: { BENCH_MEMORY_FILE: memoryFile },
    });
    cleanup.add(() => backend.stop());
    const target: PhaseTarget = {
      url: `${backend.url}/api/auth/cfaccess/refresh`,
      emulator,
      backendCpuSeconds: backend.cpuSeconds,
    };
    const signIn = async (person: string) =>
      (await emulator.signIn(`${person}@example.com`)).token;

    console.log(
      `soak: ${SOAK_SECONDS}s of mixed traffic in ${WINDOW_SECONDS}s windows (${PHASES.join(
        ', ',
      )}, ` +
        `${SLICE_SECONDS}s each), ${CATALOG_USERS} generated Users; ${
          cpus().length
        } cores, ` +
        `load ${loadavg()[0].toFixed(2)}`,
    );
    console.log(`backend up with ${CATALOG_USERS} Users in the catalog`);
    const start = await memoryOf(backend, memoryFile);
    console.log(
      `before traffic: RSS ${mb(start.rss)} MB, heap ${mb(start.heapUsed)} MB`,
    );

    const warmToken = await signIn('ada');
    // One sign-in before the clock starts: the warm phase measures refreshes, not the first sign-in.
    const first = await fetch(target.url, {
      headers: { [ACCESS_HEADER]: warmToken },
    });
    if (first.status !== 200) {
      throw new Error(
        `ada's first sign-in answered ${first.status}: ${await first.text()}`,
      );
    }
    const sent = new Map<PhaseName, PhaseTokens[]>();
    const slices = new Map<PhaseName, Slice[]>();
    const samples: Array<Memory & { sessions: number }> = [];
    let nextPerson = 0;
    const windows = Math.max(1, Math.round(SOAK_SECONDS / WINDOW_SECONDS));
    for (let window = 0; window < windows; window++) {
      // Minted before the window's traffic, so the minting is not measured.
      const fresh = await Promise.all(
        Array.from({ length: FRESH_PER_WINDOW }, (_, i) =>
          signIn(PEOPLE[i % PEOPLE.length]),
        ),
      );
      const newPeople = await Promise.all(
        Array.from({ length: NEW_PEOPLE_PER_WINDOW }, () =>
          signIn(generatedPerson(nextPerson++ % CATALOG_USERS)),
        ),
      );
      for (const phase of PHASES) {
        const tokens: PhaseTokens =
          phase === 'warm'
            ? { kind: 'same', token: warmToken }
            : phase === 'fresh'
            ? { kind: 'each', tokens: fresh, used: 0 }
            : phase === 'new-person'
            ? { kind: 'each', tokens: newPeople, used: 0 }
            : phase === 'garbage-token'
            ? { kind: 'same', token: GARBAGE_TOKEN }
            : { kind: 'none' };
        const slice = await runSlice(target, tokens, SLICE_SECONDS);
        sent.set(phase, [...(sent.get(phase) ?? []), tokens]);
        slices.set(phase, [...(slices.get(phase) ?? []), slice]);
      }
      const sessions = [...sent.values()]
        .flat()
        .reduce(
          (total, tokens) => total + (tokens.kind === 'each' ? tokens.used : 0),
          1,
        );
      const memory = await memoryOf(backend, memoryFile);
      samples.push({ ...memory, sessions });
      const line = PHASES.map(phase => {
        const slice = slices.get(phase)!.at(-1)!;
        return `${phase} ${(slice.latencies.length / slice.seconds).toFixed(
          0,
        )}/s`;
      }).join(', ');
      console.log(
        `${String((window + 1) * WINDOW_SECONDS).padStart(4)}s: RSS ${mb(
          memory.rss,
        )} MB, heap ` +
          `${mb(memory.heapUsed)} MB, ${sessions} sessions so far; ${line}`,
      );
    }

    console.log(
      '\n| phase | req/s | p99 ms | statuses | get-identity calls | sessions |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const phase of PHASES) {
      const result = summarize(phase, sent.get(phase)!, slices.get(phase)!);
      const statuses = Object.entries(result.statusCounts)
        .map(([code, count]) => `${code}×${count}`)
        .join(' ');
      console.log(
        `| ${phase} | ${result.requestsPerSecond.toFixed(
          0,
        )} | ${result.p99.toFixed(1)} | ` +
          `${statuses} | ${result.identityCalls} | ${result.distinctSessions} |`,
      );
    }
    // Warm-up: the bounded caches (20,000 session entries) fill in the first minutes; after that memory should stay flat.
    const warmUpWindows = Math.min(
      samples.length,
      Math.ceil(WARM_UP_SECONDS / WINDOW_SECONDS),
    );
    const warmedUp = samples[warmUpWindows - 1];
    const after = samples.slice(warmUpWindows - 1);
    const end = samples[samples.length - 1];
    const range = (values: number[]) =>
      `${mb(Math.min(...values))} to ${mb(Math.max(...values))} MB`;
    console.log(
      `\nRSS: ${mb(start.rss)} MB before traffic, ${mb(
        warmedUp.rss,
      )} MB after warm-up ` +
        `(${warmUpWindows * WINDOW_SECONDS}s), ${mb(
          end.rss,
        )} MB at the end; from warm-up on ` +
        `${range(after.map(sample => sample.rss))}`,
    );
    console.log(
      `heap after a full collection: ${mb(
        start.heapUsed,
      )} MB before traffic, ` +
        `${mb(warmedUp.heapUsed)} MB after warm-up, ${mb(
          end.heapUsed,
        )} MB at the end; from ` +
        `warm-up on ${range(after.map(sample => sample.heapUsed))}`,
    );
    console.log(
      `heap per 10,000 sessions while the caches fill: ${mb(
        ((warmedUp.heapUsed - start.heapUsed) / warmedUp.sessions) * 10_000,
      )} MB (${warmedUp.sessions} sessions in the first ${
        warmUpWindows * WINDOW_SECONDS
      }s)`,
    );
  } finally {
    await cleanup.run();
  }
}

main().then(
  () => process.exit(0),
  error => {
    console.error(`soak: ${error instanceof Error ? error.stack : error}`);
    process.exit(1);
  },
);
