/** Each channel's declared capabilities agree with what its halves do. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNELS } from '../../channels';
import { createEmailPublisher } from '../../channels/email/publisher';
import type { MailTransport } from '../../channels/email/smtp';
import { EmailState } from '../../channels/email/state';
import { createSlackPublisher } from '../../channels/slack/publisher';
import type { ChannelKind, ChannelPublisher } from '../../channels/types';
import { createWebPublisher } from '../../channels/web/publisher';
import { ArtifactStore } from '../../store/ArtifactStore';

describe('channels', () => {
  let dir: string;
  let publishers: Record<ChannelKind, ChannelPublisher>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-channels-'));
    const transport: MailTransport = { sendMail: async () => ({}), close: () => undefined };
    publishers = {
      web: createWebPublisher('http://rating.test'),
      slack: createSlackPublisher({ token: 'xoxb-test', apiUrl: 'http://127.0.0.1:9/api/', readArtifact: async () => Buffer.alloc(0) }),
      email: createEmailPublisher({
        transport,
        from: { address: 'prefline@example.com' },
        publicUrl: 'http://rating.test',
        raterKey: Buffer.from('rater-key-for-channel-tests-012345'),
        tokenKey: Buffer.from('token-key-for-channel-tests-012345'),
        state: await EmailState.open(join(dir, 'email')),
        artifacts: await ArtifactStore.open(join(dir, 'artifacts')),
      }),
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('should declare one channel per kind, under its own kind', () => {
    assert.deepEqual(Object.keys(CHANNELS).sort(), ['email', 'slack', 'web']);
    for (const [kind, channel] of Object.entries(CHANNELS)) assert.equal(channel.kind, kind);
  });

  it('should let raters give thumbs and answer comparisons on every channel, and comments on the web', () => {
    const has = (capability: keyof (typeof CHANNELS)['web']['capabilities']) => Object.values(CHANNELS).filter((c) => c.capabilities[capability]).map((c) => c.kind).sort();
    assert.deepEqual(has('thumbs'), ['email', 'slack', 'web']);
    assert.deepEqual(has('freeText'), ['web']);
    assert.deepEqual(has('compare'), ['email', 'slack', 'web']);
  });

  it('should remind exactly on the channels whose publisher can, and push a tally only where one is shown', () => {
    for (const channel of Object.values(CHANNELS)) {
      const publisher = publishers[channel.kind];
      assert.equal(channel.capabilities.remind, typeof publisher.remind === 'function', `${channel.kind}: remind`);
      if (publisher.update) assert.equal(channel.capabilities.liveTally, true, `${channel.kind}: update without liveTally`);
    }
  });
});
