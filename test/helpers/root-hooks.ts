/** Mocha root hooks (loaded by .mocharc.json). Shared fixtures are started lazily by the suites that need them. */
export const mochaHooks = {};
