import assert from 'node:assert/strict';
import { parseBoolean } from '../../core/boolean';

describe('core/boolean: parseBoolean', () => {
  it('should read 1, true, yes and on as true, in any case and with surrounding space', () => {
    for (const text of ['1', 'true', 'yes', 'on', 'TRUE', 'Yes', 'ON', ' true ', '\ton\n']) assert.equal(parseBoolean(text), true, JSON.stringify(text));
  });

  it('should read 0, false, no and off as false, in any case and with surrounding space', () => {
    for (const text of ['0', 'false', 'no', 'off', 'FALSE', 'No', 'Off', ' 0 ']) assert.equal(parseBoolean(text), false, JSON.stringify(text));
  });

  it('should return undefined for anything else, never a silent false', () => {
    for (const text of ['', ' ', 'maybe', '2', '-1', '01', 'y', 'n', 't', 'f', 'enabled', 'true1', 'on off', 'null']) {
      assert.equal(parseBoolean(text), undefined, JSON.stringify(text));
    }
  });
});
