/** The one way the tests wait for something another process does: poll until it holds. */

/**
 * Tries `check` until it returns true or `timeoutMs` has passed, `intervalMs`
 * apart; returns whether it held, so the test's own expectation says what
 * failed. For what happens elsewhere (a catalog ingesting, Redis coming
 * back, an event arriving); time the module measures moves by `TestClock`.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<boolean> {
  const { timeoutMs = 5_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) {
      return true;
    }
    if (Date.now() >= deadline) {
      return false;
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}
