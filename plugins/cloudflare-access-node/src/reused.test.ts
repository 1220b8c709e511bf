import { reusedFor } from './reused';

describe('reusedFor', () => {
  let now = 0;
  const clock = () => now;

  it('reads once per max age, sharing a read in flight', async () => {
    let reads = 0;
    const count = reusedFor(1000, async () => ++reads, clock);
    expect(await Promise.all([count(), count()])).toEqual([1, 1]);
    now = 1000;
    expect(await count()).toBe(1);
    now = 1001;
    expect(await count()).toBe(2);
  });

  it('reads again after invalidate, and never keeps a failed read', async () => {
    let reads = 0;
    let fail = true;
    const count = reusedFor(
      1000,
      async () => {
        reads++;
        if (fail) {
          throw new Error('down');
        }
        return reads;
      },
      clock,
    );
    await expect(count()).rejects.toThrow('down');
    fail = false;
    expect(await count()).toBe(2);
    count.invalidate();
    expect(await count()).toBe(3);
  });

  it('does not forget a newer read when an older one fails', async () => {
    let rejectFirst: (error: Error) => void = () => {};
    let reads = 0;
    const count = reusedFor(
      1000,
      () =>
        ++reads === 1
          ? new Promise<number>((_resolve, reject) => {
              rejectFirst = reject;
            })
          : Promise.resolve(reads),
      clock,
    );
    const first = count();
    count.invalidate();
    expect(await count()).toBe(2);
    rejectFirst(new Error('late'));
    await expect(first).rejects.toThrow('late');
    expect(await count()).toBe(2);
  });
});
