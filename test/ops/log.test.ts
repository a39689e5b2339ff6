/** ops/log: the text and JSON formats, error stacks and causes, and secrets kept out of every line. */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { REDACTED, createLogger, type LogSettings } from '../../ops/log';

const AT = new Date('2026-12-01T09:00:00.123Z');

function capture(settings: LogSettings, component = 'worker') {
  const lines: string[] = [];
  const logger = createLogger(component, settings, { write: (line) => lines.push(line), now: () => AT });
  return { logger, lines };
}

function failure(): Error {
  const root = new Error('connect ECONNREFUSED 127.0.0.1:7233');
  return new Error('ledger commit failed', { cause: root });
}

describe('ops/log', () => {
  describe('text (the default)', () => {
    it('should write one readable line: time of day, level, component, message, fields', () => {
      const { logger, lines } = capture('info');
      logger.info('worker polling', { queues: 'prefline,prefline-ledger', note: 'two words', error: failure(), taskQueue: 'hidden-in-text' });
      assert.deepEqual(lines, ['09:00:00.123 INFO  [worker] worker polling queues=prefline,prefline-ledger note="two words" error="ledger commit failed"']);
    });

    it('should follow an error with its stack and causes only at debug level', () => {
      const { logger, lines } = capture('debug');
      logger.error('commit failed', { error: failure() });
      const [line, ...rest] = lines[0]!.split('\n');
      assert.equal(line, '09:00:00.123 ERROR [worker] commit failed error="ledger commit failed"');
      assert.match(rest[0]!, /^ {4}Error: ledger commit failed$/);
      assert.ok(rest.some((l) => /^ {4}at /.test(l)), 'stack frames');
      assert.ok(rest.some((l) => l === '    Caused by: Error: connect ECONNREFUSED 127.0.0.1:7233'), rest.join('\n'));
    });

    it('should drop entries below the level and quiet the SDK announcements of queues it does not poll', () => {
      const { logger, lines } = capture('info');
      logger.debug('detail');
      logger.info('No activities registered, not polling for activity tasks');
      logger.warn('careful');
      assert.deepEqual(lines, ['09:00:00.123 WARN  [worker] careful']);
    });
  });

  describe('json', () => {
    const json: LogSettings = { logLevel: 'info', logFormat: 'json' };

    it('should write one parseable object per line with an ISO time with zone, level, component, message and fields', () => {
      const { logger, lines } = capture(json, 'gateway');
      logger.info('rating page listening', { url: 'http://127.0.0.1:8080', count: 3, nested: { a: [1, 2] } });
      logger.warn('Activity failed', { taskQueue: 'prefline', taskToken: 'AAAAbase64', attempt: 2 });
      assert.equal(lines.length, 2);
      const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(first, { time: '2026-12-01T09:00:00.123Z', level: 'info', component: 'gateway', message: 'rating page listening', fields: { url: 'http://127.0.0.1:8080', count: 3, nested: { a: [1, 2] } } });
      assert.match(String(first!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/);
      // The SDK's metadata is kept for machines, but the task token, which is noise.
      assert.deepEqual(second!.fields, { taskQueue: 'prefline', attempt: 2 });
    });

    it('should give every error its name, message, code, stack and cause chain', () => {
      const { logger, lines } = capture(json);
      const appFailure = ApplicationFailure.create({ type: 'prefline_ledger_unavailable', message: 'ledger busy', cause: failure() });
      logger.error('commit failed', { error: appFailure, inner: { err: new TypeError('bad input') } });
      const entry = JSON.parse(lines[0]!) as { fields: { error: Record<string, unknown>; inner: { err: Record<string, unknown> } } };
      const { error } = entry.fields;
      assert.equal(error.name, 'ApplicationFailure');
      assert.equal(error.message, 'ledger busy');
      assert.equal(error.type, 'prefline_ledger_unavailable');
      assert.match(String(error.stack), /ApplicationFailure: ledger busy\n\s+at /);
      const cause = error.cause as Record<string, unknown>;
      assert.equal(cause.message, 'ledger commit failed');
      assert.match(String(cause.stack), /\n\s+at /);
      assert.equal((cause.cause as Record<string, unknown>).message, 'connect ECONNREFUSED 127.0.0.1:7233');
      assert.equal(entry.fields.inner.err.name, 'TypeError');
    });

    it('should survive cycles and bigints', () => {
      const { logger, lines } = capture(json);
      const loop: Record<string, unknown> = { name: 'loop' };
      loop.self = loop;
      logger.info('odd values', { loop, big: 10n });
      assert.deepEqual((JSON.parse(lines[0]!) as { fields: unknown }).fields, { loop: { name: 'loop', self: '[circular]' }, big: '10' });
    });
  });

  describe('secrets', () => {
    const SLACK_TOKEN = 'xoxb-1234567890-abcdefghijkl';
    const REPLICATE_TOKEN = 'r8_0123456789abcdefghijABCDEF';

    for (const format of ['text', 'json'] as const) {
      it(`should never write secret-named fields or token-shaped text (${format})`, () => {
        const { logger, lines } = capture({ logLevel: 'debug', logFormat: format });
        logger.error(`Slack call failed with ${SLACK_TOKEN}`, {
          botToken: SLACK_TOKEN,
          password: 'hunter2-hunter2',
          apiKey: 'plain-secret-value',
          Authorization: 'Bearer abcdefghijklmnop',
          config: { signingSecret: 'signing-secret-value', replicate: { apiToken: REPLICATE_TOKEN } },
          url: `https://api.example.com/?token=${REPLICATE_TOKEN}`,
          error: new Error(`request with Bearer abcdefghijklmnop refused (${REPLICATE_TOKEN})`),
          idempotencyKey: 'web:r_1:kept',
        });
        const out = lines.join('\n');
        for (const secret of [SLACK_TOKEN, REPLICATE_TOKEN, 'hunter2-hunter2', 'plain-secret-value', 'abcdefghijklmnop', 'signing-secret-value']) {
          assert.ok(!out.includes(secret), `${secret} leaked:\n${out}`);
        }
        assert.ok(out.includes(REDACTED));
        assert.ok(out.includes('web:r_1:kept'), 'an idempotency key is not a secret');
      });
    }
  });
});
