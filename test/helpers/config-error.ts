import assert from 'node:assert/strict';
import { ConfigError } from '../../config';

/** Runs `fn`, which must throw a ConfigError whose message names `variable`; returns the error. */
export function configError(fn: () => unknown, variable: string): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'prefline_config_invalid');
  assert.ok(caught.message.includes(variable), `the message should name ${variable}: ${caught.message}`);
  return caught;
}
