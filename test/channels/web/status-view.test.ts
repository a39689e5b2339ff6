import assert from 'node:assert/strict';
import { publicChannel, publicStatus } from '../../../channels/web/status-view';
import { votingLifecycle } from '../../helpers/fake-directory';

describe('channels/web/status-view', () => {
  it('should never show the recipients of an email lifecycle', () => {
    assert.equal(publicChannel('email:alice@example.org,bob@example.org'), 'email');
    assert.equal(publicChannel('email:@reviewers'), 'email:@reviewers');
    assert.equal(publicChannel('email:@reviewers,carol@example.org'), 'email');
    assert.equal(publicChannel('slack:#design'), 'slack:#design');
    assert.equal(publicChannel('web'), 'web');
  });

  it('should keep what the page uses, add signed artifact URLs and leave posts out', () => {
    const status = votingLifecycle('lc-1', 'a prompt', [{ kind: 'text', text: 'hello' }], {
      channel: 'email:alice@example.org', posts: [{ ref: 'email:<m1@prefline>', candidateId: 'c1' }], campaign: 'spring',
    });
    const view = publicStatus(status, (sha) => `/artifacts/${sha}?exp=1&sig=s`);
    assert.equal(view.channel, 'email');
    assert.equal('posts' in view, false);
    assert.equal(view.campaign, 'spring');
    assert.deepEqual(view.candidates[0]?.artifact, { ...status.candidates[0]!.artifact, url: `/artifacts/${status.candidates[0]!.artifact.sha256}?exp=1&sig=s` });
    assert.doesNotMatch(JSON.stringify(view), /@example\.org/);
  });
});
