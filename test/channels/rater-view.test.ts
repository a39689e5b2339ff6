import assert from 'node:assert/strict';
import { modelsShown, raterCandidate, raterView, shownPair } from '../../channels/rater-view';
import { presentationOrder } from '../../core/presentation';
import type { LifecyclePhase } from '../../workflows/types';
import { votingLifecycle } from '../helpers/fake-directory';

const MODEL_NAMES = /demo:shapes|demo:text|replicate:|openai:|shapes-0\.3/;

function abLifecycle(extra: Parameters<typeof votingLifecycle>[3] = {}) {
  const status = votingLifecycle('lc-ab', 'a fox', [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }], {
    models: ['demo:text', 'replicate:acme/fox'], modelVersion: 'shapes-0.3', posts: [{ ref: 'slack:C1:1.1', candidateId: 'c1' }], ...extra,
  });
  status.candidates[1]!.model = 'replicate:acme/fox';
  status.candidates[1]!.placeholder = false;
  return status;
}

describe('channels/rater-view', () => {
  it('should hide models, the model version and posts from raters while voting, on a thumbs A/B lifecycle', () => {
    const view = raterView(abLifecycle());
    assert.equal(view.modelsHidden, true);
    assert.equal('models' in view, false);
    assert.equal('modelVersion' in view, false);
    assert.equal('posts' in view, false);
    assert.ok(view.candidates.every((c) => !('model' in c)));
    assert.doesNotMatch(JSON.stringify(view), MODEL_NAMES);
    // What a rater needs stays: the prompt, the candidates' texts and labels, the placeholder mark, the tally.
    assert.deepEqual(view.candidates.map((c) => [c.id, c.label, c.text, c.placeholder, c.tally.votes]), [['c1', 'A', 'one', true, 0], ['c2', 'B', 'two', false, 0]]);
  });

  it('should hide them on a compare lifecycle and in every phase before voting closes', () => {
    for (const phase of ['generating', 'publishing', 'voting'] as LifecyclePhase[]) {
      const view = raterView(abLifecycle({ task: 'compare', question: 'Which fox?', phase }));
      assert.doesNotMatch(JSON.stringify(view), MODEL_NAMES, phase);
      assert.equal(view.question, 'Which fox?');
    }
  });

  it('should show models once voting has closed, or when the lifecycle reveals them', () => {
    for (const [extra, why] of [[{ phase: 'committing' }, 'committing'], [{ phase: 'completed' }, 'completed'], [{ revealModels: true }, 'revealModels']] as const) {
      const view = raterView(abLifecycle(extra));
      assert.equal(view.modelsHidden, false, why);
      assert.deepEqual(view.models, ['demo:text', 'replicate:acme/fox'], why);
      assert.equal(view.modelVersion, 'shapes-0.3', why);
      assert.deepEqual(view.candidates.map((c) => c.model), ['demo:shapes', 'replicate:acme/fox'], why);
    }
  });

  it('modelsShown, raterCandidate: the building blocks publishers use, provenance dropped with the model', () => {
    assert.equal(modelsShown({ phase: 'publishing' }), false);
    assert.equal(modelsShown({ phase: 'publishing', revealModels: false }), false);
    assert.equal(modelsShown({ phase: 'publishing', revealModels: true }), true);
    const candidate = { id: 'c1', label: 'A', model: 'openai:gpt-x', placeholder: false, provenance: { backend: 'openai', model: 'gpt-x' } };
    assert.deepEqual(raterCandidate(candidate, false), { id: 'c1', label: 'A', placeholder: false });
    assert.deepEqual(raterCandidate(candidate, true), { id: 'c1', label: 'A', placeholder: false, model: 'openai:gpt-x' });
  });

  it('shownPair: a compare pair in presentationOrder per rater (or per message without one), a thumbs pair in order, nothing for other counts', () => {
    const pair = ['c1', 'c2'] as const;
    const raters = Array.from({ length: 64 }, (_, i) => `r_${i.toString(16).padStart(24, '0')}`);
    const orders = raters.map((r) => shownPair({ lifecycleId: 'lc-x', task: 'compare', candidates: pair }, r));
    assert.deepEqual(orders, raters.map((r) => presentationOrder('lc-x', r, pair)));
    assert.ok(orders.some((o) => o?.[0] === 'c2') && orders.some((o) => o?.[0] === 'c1'), 'both orders occur among 64 raters');
    assert.deepEqual(shownPair({ lifecycleId: 'lc-x', task: 'compare', candidates: pair }, undefined), presentationOrder('lc-x', undefined, pair));
    assert.deepEqual(shownPair({ lifecycleId: 'lc-x', task: 'thumbs', candidates: pair }, raters[0]), ['c1', 'c2']);
    assert.deepEqual(shownPair({ lifecycleId: 'lc-x', candidates: pair }, raters[0]), ['c1', 'c2']);
    assert.equal(shownPair({ lifecycleId: 'lc-x', task: 'thumbs', candidates: ['c1', 'c2', 'c3'] }, raters[0]), undefined);
    assert.equal(shownPair({ lifecycleId: 'lc-x', task: 'compare', candidates: ['c1'] }, raters[0]), undefined);
  });
});
