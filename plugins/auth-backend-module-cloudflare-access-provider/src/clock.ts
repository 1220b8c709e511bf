/** The module's one source of the current time. */

/**
 * The current time in epoch milliseconds. The module runs on the system
 * clock; tests pass one they move, so nothing waits for time to pass. Shaped
 * like lru-cache's `perf`, so the in-process stores' TTLs follow it too.
 */
export type Clock = { now(): number };

export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };

/**
 * lru-cache options that time its TTLs by `clock`, read at every check
 * (lru-cache otherwise reuses one reading for a millisecond).
 */
export const lruTimedBy = (clock: Clock) => ({
  perf: clock,
  ttlResolution: 0,
});
