/**
 * Mocha's spec reporter plus one plain last line "N passed, M failed[, K skipped]", so scripts and
 * CI logs can grep a single summary line (set as "reporter" in .mocharc.json).
 */
import Mocha from 'mocha';

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    // Registered after Spec's own handler, so it prints after mocha's "N passing / M failing" epilogue.
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      console.log(`${passes} passed, ${failures} failed${pending > 0 ? `, ${pending} skipped` : ''}`);
    });
  }
}

export = SpecWithSummary;
