import assert from 'node:assert/strict';
import { LifecycleChannels, channelKindOf } from '../../core/lifecycle-channels';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import type { LifecycleStatus } from '../../workflows/types';

const statusOf = (lifecycleId: string, channel: string) => ({ lifecycleId, channel }) as LifecycleStatus;

describe('core/lifecycle-channels', () => {
  it('should read the channel kind off a status label, and nothing off a label that names none', () => {
    assert.deepEqual(['web', 'slack:#ratings', 'slack:C0123ABCD', 'email:a@x.org,b@y.org', 'email:@reviewers', 'irc:#x', 'constructor', ''].map(channelKindOf),
      ['web', 'slack', 'slack', 'email', 'email', undefined, undefined, undefined]);
  });

  it('should refuse a vote through another channel with wrong_channel and the validator\'s words, and let the lifecycle\'s own channels pass', async () => {
    const channels = new LifecycleChannels(async (id) => statusOf(id, id === 'lc-web' ? 'web' : 'slack:#ratings'));
    await assert.rejects(channels.check('lc-slack', { channel: 'web' }),
      (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_channel' && /this is a slack lifecycle, which takes votes through "slack" only, not "web"/.test(err.message));
    await channels.check('lc-slack', { channel: 'slack' });
    await channels.check('lc-web', { channel: 'web' });
    await channels.check('lc-web', { channel: 'cli' });
    await assert.rejects(channels.check('lc-web', { channel: 'email' }), (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_channel');
  });

  it('should look a lifecycle up once, burst included, and not at all after a status taught it', async () => {
    const asked: string[] = [];
    const channels = new LifecycleChannels(async (id) => {
      asked.push(id);
      return statusOf(id, 'email:@reviewers');
    });
    await Promise.all(Array.from({ length: 5 }, () => channels.check('lc-1', { channel: 'email' })));
    await channels.check('lc-1', { channel: 'email' });
    channels.learn(statusOf('lc-2', 'web'));
    await assert.rejects(channels.check('lc-2', { channel: 'slack' }));
    assert.deepEqual(asked, ['lc-1']);
  });

  it('should leave an unknown lifecycle to the forwarding (no cache entry), and pass a lookup failure on', async () => {
    let calls = 0;
    const channels = new LifecycleChannels(async () => {
      calls += 1;
      if (calls === 2) throw new Error('14 UNAVAILABLE');
      return undefined;
    });
    await channels.check('lc-gone', { channel: 'web' });
    await assert.rejects(channels.check('lc-gone', { channel: 'web' }), /UNAVAILABLE/);
    assert.equal(calls, 2);
  });

  it('should take the described channel first, check nothing where describe says there is nothing to check, and read the status only when describe cannot tell', async () => {
    const asked: string[] = [];
    const described: Record<string, 'web' | 'slack' | null | undefined> = { 'lc-slack': 'slack', 'lc-closed': null, 'lc-new': undefined };
    const channels = new LifecycleChannels(async (id) => {
      asked.push(id);
      return statusOf(id, 'web');
    }, undefined, async (id) => described[id]);
    await assert.rejects(channels.check('lc-slack', { channel: 'web' }), (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_channel');
    await channels.check('lc-closed', { channel: 'email' }); // forwarded: the update answers voting closed
    await assert.rejects(channels.check('lc-new', { channel: 'slack' }), (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_channel');
    assert.deepEqual(asked, ['lc-new']);
    // A described kind is kept like a read one.
    described['lc-slack'] = 'web';
    await assert.rejects(channels.check('lc-slack', { channel: 'web' }));
  });

  it('should keep at most maxCached lifecycles, forgetting the oldest', async () => {
    const asked: string[] = [];
    const channels = new LifecycleChannels(async (id) => {
      asked.push(id);
      return statusOf(id, 'web');
    }, 2);
    for (const id of ['a', 'b', 'c', 'c', 'b', 'a']) await channels.check(id, { channel: 'web' });
    assert.deepEqual(asked, ['a', 'b', 'c', 'a']);
  });
});
