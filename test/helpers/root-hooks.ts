/** Mocha root hooks (loaded by .mocharc.json): shared fixtures start lazily and stop once at the end. */
import { stopSharedTemporal } from './temporal';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopSharedTemporal();
  },
};
