/** A clock the tests move, so that nothing waits for time to pass. */
import { Clock } from '../clock';

/**
 * The system's time plus how far the test moved it: it goes on with real
 * time, as the emulator's tokens do, and jumps where a test says so.
 */
export class TestClock implements Clock {
  #offsetMs = 0;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves the clock forward, as if `ms` had passed. */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}
