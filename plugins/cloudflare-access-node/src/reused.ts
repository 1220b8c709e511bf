/** A fact read at most once per max age, shared by both modules' catalog and store questions. */

/**
 * A read whose answer is reused for `maxAgeMs`; see {@link reusedFor}.
 *
 * @public
 */
export type ReusedRead<T> = {
  /** The last answer, or a new read when it is older than the max age (one read in flight at a time). */
  (): Promise<T>;
  /** Forgets the last answer: the next call reads again. */
  invalidate(): void;
};

/**
 * Reuses `read`'s answer for `maxAgeMs`: calls within that time share one
 * read, even while it is in flight, and a read that fails is not kept.
 *
 * @public
 */
export function reusedFor<T>(
  maxAgeMs: number,
  read: () => Promise<T>,
  now: () => number = Date.now,
): ReusedRead<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  const reused = () => {
    if (!last || now() - last.at > maxAgeMs) {
      const value = read();
      const entry = { at: now(), value };
      last = entry;
      value.catch(() => {
        // Only this read is forgotten, not a newer one that replaced it.
        if (last === entry) {
          last = undefined;
        }
      });
    }
    return last.value;
  };
  return Object.assign(reused, {
    invalidate() {
      last = undefined;
    },
  });
}
