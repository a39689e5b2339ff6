/** connectors/webhook.ts against a local receiver: signed deliveries, retryable and final answers, the address rules. */
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { toActivityFailure } from '../../activities/failures';
import { WebhookRejectedError, WebhookUnavailableError, createWebhookSender, type WebhookSenderOptions } from '../../connectors/webhook';
import { ConfigMissingError, ErrorCode } from '../../core/errors';
import { isValidWebhookSignature } from '../../core/webhook-signature';
import { WebhookReceiver } from '../standins/webhook-receiver';

const SECRET = 'test-webhook-secret-0123456789';
const LOCAL = { allowHosts: ['127.0.0.1'], allowHttpHosts: ['127.0.0.1'] };
const NOTICE = { eventId: 'cmp-1/run-1/completed', event: 'completed', counts: { items: 2, done: 2 } };

async function thrown(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  return assert.fail('the delivery succeeded');
}

describe('connectors/webhook: signed deliveries to a local receiver', function () {
  this.timeout(20_000);
  let receiver: WebhookReceiver;
  const sender = (options: Partial<WebhookSenderOptions> = {}) => createWebhookSender({ secret: SECRET, ...LOCAL, ...options });

  beforeEach(async () => {
    receiver = await WebhookReceiver.start(SECRET);
  });
  afterEach(() => receiver.close());

  it('should POST the notice as JSON with a timestamp, a signature the receiver verifies and the event id', async () => {
    const result = await sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE });
    assert.equal(result.status, 200);
    assert.equal(receiver.requests.length, 1);
    const [request] = receiver.requests;
    assert.deepEqual([request!.method, request!.path, request!.headers['content-type'], request!.headers['prefline-event-id']], ['POST', '/hooks/prefline', 'application/json', NOTICE.eventId]);
    assert.equal(request!.signatureValid, true);
    assert.match(String(request!.headers['prefline-signature']), /^v1=[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(request!.body.toString('utf8')), NOTICE);
    // Another secret does not verify it: the signature is the receiver's proof of origin.
    assert.equal(isValidWebhookSignature({ secret: 'some-other-secret-0123456789', body: request!.body, headers: request!.headers }), false);
  });

  it('should have a delivery replayed after the tolerance refused by the receiver', async () => {
    await receiver.close();
    // The receiver's clock is 10 minutes ahead: what arrives now looks like a replay of an old delivery.
    receiver = await WebhookReceiver.start(SECRET, () => Date.now() + 10 * 60_000);
    const err = await thrown(sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(err instanceof WebhookRejectedError, String(err));
    assert.match(err.message, /HTTP 401/);
    assert.equal(receiver.accepted.size, 0);
  });

  it('should make a 500 retryable and, retried, have the receiver count one delivery by event id', async () => {
    receiver.script.push(500);
    const first = await thrown(sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(first instanceof WebhookUnavailableError && first.retryable, String(first));
    const failure = toActivityFailure(first);
    assert.ok(failure instanceof ApplicationFailure);
    assert.deepEqual([failure.type, failure.nonRetryable], [ErrorCode.WebhookUnavailable, false]);
    await sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE });
    // A receiver that answered 200 but whose answer was lost sees the same event id again: still one.
    await sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE });
    assert.equal(receiver.requests.length, 3);
    assert.ok(receiver.requests.every((r) => r.signatureValid && r.headers['prefline-event-id'] === NOTICE.eventId));
    assert.deepEqual([...receiver.accepted.keys()], [NOTICE.eventId]);
  });

  it('should make a 400 final (not retried), and 408, 429 (with its Retry-After) and 503 retryable', async () => {
    receiver.script.push(400);
    const rejected = await thrown(sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(rejected instanceof WebhookRejectedError && !rejected.retryable, String(rejected));
    assert.equal((toActivityFailure(rejected) as ApplicationFailure).nonRetryable, true);
    assert.match(rejected.message, /HTTP 400: refused 400/);
    for (const status of [408, 429, 503]) {
      receiver.script.push(status);
      receiver.answerHeaders = status === 429 ? { 'Retry-After': '7' } : {};
      const err = await thrown(sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
      assert.ok(err instanceof WebhookUnavailableError && err.retryable, `${status}: ${String(err)}`);
      assert.equal(err.remoteStatus, status);
      if (status === 429) assert.equal(err.retryAfterSeconds, 7);
    }
    receiver.script.push(302);
    const redirect = await thrown(sender().deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(redirect instanceof WebhookRejectedError, String(redirect));
    assert.match(redirect.message, /redirects are not followed/);
    assert.equal(receiver.accepted.size, 0);
  });

  it('should make a timeout and a refused connection retryable', async () => {
    receiver.delayMs = 3000;
    const slow = await thrown(sender({ timeoutMs: 300 }).deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(slow instanceof WebhookUnavailableError && slow.retryable, String(slow));
    assert.match(slow.message, /did not answer within 300 ms/);
    const closed = receiver.url;
    await receiver.close();
    const down = await thrown(sender().deliver({ url: closed, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(down instanceof WebhookUnavailableError && down.retryable, String(down));
    receiver = await WebhookReceiver.start(SECRET);
  });

  it('should refuse loopback, private and metadata addresses unless the operator allows them, before connecting', async () => {
    const strict = createWebhookSender({ secret: SECRET, allowHttpHosts: ['127.0.0.1'] });
    const loopback = await thrown(strict.deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(loopback instanceof WebhookRejectedError && !loopback.retryable, String(loopback));
    assert.match(loopback.message, /loopback 127\.0\.0\.0\/8; add it to PREFLINE_WEBHOOK_ALLOW_HOSTS/);
    // A public-looking name that resolves to a private address (or the cloud metadata service) is refused too.
    const resolving = (address: string) => createWebhookSender({ secret: SECRET, resolve: async () => [{ address, family: 4 }] });
    for (const [address, range] of [['10.1.2.3', /private 10\.0\.0\.0\/8/], ['169.254.169.254', /link-local/]] as const) {
      const err = await thrown(resolving(address).deliver({ url: 'https://hooks.example.com/x', eventId: NOTICE.eventId, body: NOTICE }));
      assert.ok(err instanceof WebhookRejectedError, String(err));
      assert.match(err.message, range);
    }
    for (const url of ['https://localhost/x', 'https://[::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://metadata.google.internal/x']) {
      assert.ok((await thrown(strict.deliver({ url, eventId: NOTICE.eventId, body: NOTICE }))) instanceof WebhookRejectedError, url);
    }
    assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
  });

  it('should refuse plain http to a host not allowed for it, a URL with credentials, and any delivery without a secret', async () => {
    const noHttp = await thrown(createWebhookSender({ secret: SECRET, allowHosts: ['127.0.0.1'] }).deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(noHttp instanceof WebhookRejectedError, String(noHttp));
    assert.match(noHttp.message, /plain http only to the hosts in PREFLINE_WEBHOOK_ALLOW_HTTP_HOSTS/);
    const credentials = await thrown(sender().deliver({ url: receiver.url.replace('http://', 'http://user:pw@'), eventId: NOTICE.eventId, body: NOTICE }));
    assert.ok(credentials instanceof WebhookRejectedError, String(credentials));
    for (const secret of [undefined, 'short']) {
      const err = await thrown(createWebhookSender({ ...LOCAL, ...(secret !== undefined ? { secret } : {}) }).deliver({ url: receiver.url, eventId: NOTICE.eventId, body: NOTICE }));
      assert.ok(err instanceof ConfigMissingError, String(err));
      assert.match(err.message, /set PREFLINE_WEBHOOK_SECRET/);
    }
    assert.equal(receiver.requests.length, 0);
  });
});
