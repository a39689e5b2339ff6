/** The log format and the ops endpoints' addresses, and what `prefline up` turns on for its children. */
import assert from 'node:assert/strict';
import { loadConfig, metricsEnvUnderUp } from '../../config';
import { childNodeArgs } from '../../ops/node-args';
import { configError } from '../helpers/config-error';

const CWD = '/srv/prefline';

describe('config: logs and ops endpoints', () => {
  it('should default to text logs and no ops endpoints', () => {
    const c = loadConfig({}, CWD);
    assert.equal(c.logFormat, 'text');
    assert.deepEqual(c.metrics, {});
  });

  it('should read the log format and refuse any other', () => {
    assert.equal(loadConfig({ PREFLINE_LOG_FORMAT: 'json' }, CWD).logFormat, 'json');
    assert.match(configError(() => loadConfig({ PREFLINE_LOG_FORMAT: 'JSON-lines' }, CWD), 'PREFLINE_LOG_FORMAT').message, /must be text or json, got "JSON-lines"/);
  });

  it('should start worker and gateway without source-mapped stacks unless PREFLINE_SOURCE_MAPS asks, and refuse other words', () => {
    assert.equal(loadConfig({}, CWD).sourceMaps, false);
    assert.deepEqual(childNodeArgs(loadConfig({}, CWD).sourceMaps), []);
    assert.deepEqual(childNodeArgs(loadConfig({ PREFLINE_SOURCE_MAPS: 'on' }, CWD).sourceMaps), ['--enable-source-maps']);
    configError(() => loadConfig({ PREFLINE_SOURCE_MAPS: 'maybe' }, CWD), 'PREFLINE_SOURCE_MAPS');
  });

  it('should read host:port addresses (IPv6 in brackets, port 0 for a free one), and off', () => {
    const c = loadConfig({ PREFLINE_WORKER_METRICS_ADDRESS: '0.0.0.0:9464', PREFLINE_GATEWAY_METRICS_ADDRESS: '[::1]:0' }, CWD);
    assert.deepEqual(c.metrics, { worker: { host: '0.0.0.0', port: 9464 }, gateway: { host: '::1', port: 0 } });
    assert.deepEqual(loadConfig({ PREFLINE_WORKER_METRICS_ADDRESS: 'off', PREFLINE_GATEWAY_METRICS_ADDRESS: ' OFF ' }, CWD).metrics, {});
  });

  it('should refuse an address that is not host:port, naming the variable', () => {
    for (const bad of ['9464', 'localhost', 'localhost:', 'host:99999', ':9464', 'a b:1', '::1:9464']) {
      const err = configError(() => loadConfig({ PREFLINE_WORKER_METRICS_ADDRESS: bad }, CWD), 'PREFLINE_WORKER_METRICS_ADDRESS');
      assert.ok(err.message.includes(`must be host:port (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464) or off, got "${bad}"`), err.message);
    }
  });

  it('should turn both endpoints on under prefline up unless set, and keep one off when set to off', () => {
    assert.deepEqual(metricsEnvUnderUp({}), { PREFLINE_WORKER_METRICS_ADDRESS: '127.0.0.1:9464', PREFLINE_GATEWAY_METRICS_ADDRESS: '127.0.0.1:9465' });
    assert.deepEqual(metricsEnvUnderUp({ PREFLINE_WORKER_METRICS_ADDRESS: '0.0.0.0:9100', PREFLINE_GATEWAY_METRICS_ADDRESS: 'off' }), {
      PREFLINE_WORKER_METRICS_ADDRESS: '0.0.0.0:9100',
      PREFLINE_GATEWAY_METRICS_ADDRESS: 'off',
    });
    assert.deepEqual(loadConfig(metricsEnvUnderUp({}), CWD).metrics, { worker: { host: '127.0.0.1', port: 9464 }, gateway: { host: '127.0.0.1', port: 9465 } });
  });
});
