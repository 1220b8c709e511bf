// Preloaded into the soak's backend: on SIGUSR2 it collects garbage (with
// --expose-gc) and writes process.memoryUsage() to BENCH_MEMORY_FILE, so the
// soak reads the live heap, not what the collector has not reached yet.
const { writeFileSync } = require('node:fs');

const file = process.env.BENCH_MEMORY_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    global.gc?.();
    writeFileSync(
      file,
      JSON.stringify({ at: Date.now(), ...process.memoryUsage() }),
    );
  });
}
