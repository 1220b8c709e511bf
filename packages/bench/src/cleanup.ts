/** Everything the bench started, stopped in reverse order: at the end, on failure and on Ctrl-C. */
export class Cleanup {
  private readonly steps: Array<() => Promise<void>> = [];

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      await step().catch(error =>
        console.error(`bench: cleanup failed: ${error}`),
      );
    }
  }
}
