/** What the Temporal UI shows of a lifecycle: the start's summary and details, and the workflow's current details. */
import assert from 'node:assert/strict';
import { MAX_SUMMARY_CHARS, currentDetails, lifecycleDetails, lifecycleSummary, oneLine, startMetadata } from '../../workflows/describe';
import { validateLifecycleInput } from '../../workflows/input';
import type { LifecyclePlan } from '../../workflows/types';

const NOW = Date.parse('2026-12-01T09:00:00Z');

function plan(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'a red fox in the snow', model: 'demo:shapes', ...input }, NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

describe('workflows/describe: what the Temporal UI shows', () => {
  it('should summarise a lifecycle as its quoted prompt, models and channel', () => {
    assert.equal(lifecycleSummary(plan({})), '"a red fox in the snow" · demo:shapes ×4 · web');
    assert.equal(lifecycleSummary(plan({ model: undefined, models: ['demo:text', 'demo:shapes'], channel: 'slack:#ratings', campaign: 'spring' })), '"a red fox in the snow" · demo:text, demo:shapes · slack:#ratings · spring');
  });

  it('should keep the summary on one line of at most 200 characters, cutting the prompt with an ellipsis', () => {
    const long = lifecycleSummary(plan({ prompt: `line one\nline\ttwo ${'word '.repeat(100)}` }));
    assert.ok([...long].length <= MAX_SUMMARY_CHARS, `${[...long].length} characters`);
    assert.match(long, /^"line one line two word word .*…" · demo:shapes ×4 · web$/);
    assert.equal(oneLine('  a\n\n b\u0007c ', 10), 'a b c');
    assert.equal(oneLine('abcdefghij', 5), 'abcd…');
  });

  it('should count email recipients instead of showing their addresses', () => {
    const mailed = plan({ channel: 'email:alice@example.com,bob@example.com' });
    const shown = [lifecycleSummary(mailed), lifecycleDetails(mailed)].join('\n');
    assert.doesNotMatch(shown, /@example\.com/);
    assert.match(lifecycleSummary(mailed), / · email \(2 recipients\)$/);
    assert.match(lifecycleSummary(plan({ channel: 'email:@reviewers' })), / · email:@reviewers$/);
  });

  it('should give the start details the prompt, models, channel, quorum and deadline', () => {
    const { staticSummary, staticDetails } = startMetadata(plan({ votesPerCandidate: 3, deadline: '2h', campaign: 'spring' }));
    assert.equal(staticSummary, '"a red fox in the snow" · demo:shapes ×4 · web · spring');
    assert.equal(
      staticDetails,
      ['**Prompt:** a red fox in the snow', '**Models:** demo:shapes ×4', '**Channel:** web', '**Quorum:** 3 votes per candidate', '**Deadline:** 7200 s after the start', '**Campaign:** spring'].join('\n'),
    );
  });

  it('should show the phase, the votes accepted and, when given, the tally in the current details', () => {
    const p = plan({ candidates: 2 });
    const details = currentDetails(p, {
      phase: 'committing',
      votesAccepted: 3,
      deadlineAt: '2026-12-02T09:00:00.000Z',
      closeReason: 'quorum',
      tally: [{ label: 'A', model: 'demo:shapes', up: 2, down: 0 }, { label: 'B', model: 'demo:shapes', up: 0, down: 1 }],
    });
    assert.equal(details, ['**committing**, closed: quorum · 3 votes accepted · deadline 2026-12-02T09:00:00.000Z', 'A demo:shapes: 👍 2 👎 0 · B demo:shapes: 👍 0 👎 1', '"a red fox in the snow" · demo:shapes ×2 · web'].join('\n'));
    assert.equal(currentDetails(p, { phase: 'voting', votesAccepted: 1, deadlineAt: 'd' }), '**voting** · 1 vote accepted · deadline d\n"a red fox in the snow" · demo:shapes ×2 · web');
  });
});
