import assert from 'node:assert/strict';
import { createActivities } from '../../activities';
import { createWebPublisher } from '../../channels/web/publisher';
import type { InferenceRegistry } from '../../connectors/inference/registry';
import type { ArtifactStore } from '../../store/ArtifactStore';
import type { Ledger } from '../../store/Ledger';
import type { ReplyRecords } from '../../store/reply-records';

describe('activities: createActivities', () => {
  // Never called here: the factory only wires them.
  const ledger = {} as Ledger;

  it('should build nothing without dependencies', () => {
    assert.deepEqual(Object.keys(createActivities({})), []);
  });

  it('should build the activities of each group whose dependencies are given, and only those', () => {
    const names = (deps: Parameters<typeof createActivities>[0]) => Object.keys(createActivities(deps)).sort();
    // Email campaigns' digests sit with the channels (they refuse, in words, on a worker without the email channel).
    assert.deepEqual(names({ channels: { web: createWebPublisher('http://127.0.0.1:8080', () => undefined) } }), [
      'campaignDigestRaters', 'closePost', 'publishLifecycle', 'remindRaters', 'sendCampaignDigest', 'updatePost',
    ]);
    // Campaign notifications sit beside the channels, on the lifecycle queue.
    assert.deepEqual(names({ notify: {} }), ['sendCampaignNotice']);
    assert.deepEqual(names({ inference: { registry: {} as InferenceRegistry, artifacts: {} as ArtifactStore } }), ['generateCandidates', 'ingestCandidates', 'readCampaignItems']);
    assert.deepEqual(names({ chat: { registry: {} as InferenceRegistry, artifacts: {} as ArtifactStore, replies: {} as ReplyRecords } }), ['generateReply']);
    // Lifecycle and chat commits go to the one DuckDB writer alike.
    assert.deepEqual(names({ ledger: { ledger } }), ['commitCampaign', 'commitChatEvents', 'commitLifecycle']);
    // The ledger worker's queue: commits and releases, both beside the one DuckDB writer.
    assert.deepEqual(names({ ledger: { ledger }, releases: { ledger, releasesDir: '/nonexistent' } }), ['commitCampaign', 'commitChatEvents', 'commitLifecycle', 'publishReleaseFiles']);
  });
});
