import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createChannelActivities, type ChannelPublisher } from '../../activities/channel';
import { createWebPublisher } from '../../channels/web/publisher';
import type { ClosePostRequest, PostRef, PublishRequest } from '../../activities/types';
import { ErrorCode, InferenceUnavailableError, PreflineError } from '../../core/errors';
import type { ChannelSpec, LifecyclePlan } from '../../workflows/types';

function plan(channel: ChannelSpec, channelLabel = channel.kind): LifecyclePlan {
  return {
    prompt: 'a red fox',
    models: ['demo:shapes'],
    candidatesPerModel: 2,
    params: {},
    channel,
    channelLabel,
    quorum: { kind: 'perCandidate', votes: 3 },
    deadline: { kind: 'duration', ms: 3_600_000 },
  };
}

function publishRequest(lifecycleId: string, channel: ChannelSpec = { kind: 'web' }): PublishRequest {
  return { lifecycleId, plan: plan(channel), candidates: [], deadlineAt: '2026-03-01T13:00:00.000Z' };
}

function closeRequest(lifecycleId: string, channel: ChannelSpec = { kind: 'web' }): ClosePostRequest {
  return { lifecycleId, plan: plan(channel), closeReason: 'quorum', tally: [] };
}

const env = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.fail('expected the activity to fail');
}

describe('activities/channel', () => {
  describe('web publisher', () => {
    it('should return the rating page URL of the lifecycle', async () => {
      const activities = createChannelActivities({ web: createWebPublisher('http://127.0.0.1:8080') });
      const ref = (await env().run(activities.publishLifecycle, publishRequest('lc-2026-03-01-abc'))) as PostRef;
      assert.deepEqual(ref, { channel: 'web', url: 'http://127.0.0.1:8080/#/lifecycles/lc-2026-03-01-abc' });
    });

    it('should URL-encode the lifecycle id', async () => {
      const activities = createChannelActivities({ web: createWebPublisher('https://rate.example.com') });
      const id = 'fox test/1?x=y#z&ü %';
      const ref = (await env().run(activities.publishLifecycle, publishRequest(id))) as PostRef;
      assert.equal(ref.url, `https://rate.example.com/#/lifecycles/${encodeURIComponent(id)}`);
      assert.equal(ref.url, 'https://rate.example.com/#/lifecycles/fox%20test%2F1%3Fx%3Dy%23z%26%C3%BC%20%25');
      const fragment = new URL(ref.url as string).hash;
      assert.equal(decodeURIComponent(fragment.slice('#/lifecycles/'.length)), id, 'the id round-trips');
    });

    it('should give the same URL when publishing twice (idempotent per lifecycle)', async () => {
      const activities = createChannelActivities({ web: createWebPublisher('http://h:1') });
      const a = await env().run(activities.publishLifecycle, publishRequest('lc-1'));
      const b = await env().run(activities.publishLifecycle, publishRequest('lc-1'));
      assert.deepEqual(a, b);
    });

    it('should close without error', async () => {
      const activities = createChannelActivities({ web: createWebPublisher('http://h:1') });
      assert.equal(await env().run(activities.closePost, closeRequest('lc-1')), undefined);
    });
  });

  describe('unconfigured channels', () => {
    for (const channel of [{ kind: 'slack', channel: '#ratings' }, { kind: 'email', recipients: ['a@example.com'] }] as ChannelSpec[]) {
      it(`should fail publishing to ${channel.kind} non-retryably with prefline_channel_unavailable`, async () => {
        const activities = createChannelActivities({ web: createWebPublisher('http://h:1') });
        const err = await rejection(env().run(activities.publishLifecycle, publishRequest('lc-1', channel)));
        assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
        assert.equal(err.type, 'prefline_channel_unavailable');
        assert.equal(err.type, ErrorCode.ChannelUnavailable);
        assert.equal(err.nonRetryable, true);
        assert.ok(err.message.includes(`"${channel.kind}"`), err.message);
      });

      it(`should fail closing the ${channel.kind} post non-retryably with prefline_channel_unavailable`, async () => {
        const activities = createChannelActivities({ web: createWebPublisher('http://h:1') });
        const err = await rejection(env().run(activities.closePost, closeRequest('lc-1', channel)));
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'prefline_channel_unavailable');
        assert.equal(err.nonRetryable, true);
      });
    }

    it('should refuse even the web channel when no publisher is configured at all', async () => {
      const activities = createChannelActivities({});
      const err = await rejection(env().run(activities.publishLifecycle, publishRequest('lc-1')));
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'prefline_channel_unavailable');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /"web" channel is not configured/);
    });
  });

  describe('publisher errors', () => {
    function failingPublisher(err: unknown): ChannelPublisher {
      return { publish: () => Promise.reject(err), close: () => Promise.reject(err) };
    }

    it('should map a non-retryable coded publisher error by its code', async () => {
      const activities = createChannelActivities({ web: failingPublisher(new PreflineError(ErrorCode.ChannelRejected, 'channel_not_found')) });
      const err = await rejection(env().run(activities.publishLifecycle, publishRequest('lc-1')));
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, ErrorCode.ChannelRejected);
      assert.equal(err.nonRetryable, true);
      assert.equal(err.message, 'channel_not_found');
    });

    it('should keep a retryable publisher error retryable with its Retry-After', async () => {
      const activities = createChannelActivities({ web: failingPublisher(new InferenceUnavailableError('rate limited', { retryAfterSeconds: 30 })) });
      const err = await rejection(env().run(activities.closePost, closeRequest('lc-1')));
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.nonRetryable, false);
      assert.equal(err.nextRetryDelay, '30s');
    });
  });
});
