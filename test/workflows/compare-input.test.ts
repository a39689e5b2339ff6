/**
 * Compare lifecycles' and brought candidates' input (workflows/input.ts, workflows/brought-candidates.ts):
 * what a valid input becomes, and that every bad field is refused naming itself.
 */
import assert from 'node:assert/strict';
import { importPathProblem } from '../../workflows/brought-candidates';
import { DEFAULT_QUESTION, DEFAULT_RESPONSES, MAX_QUESTION_LENGTH, MAX_RESPONSES, taskOf, validateLifecycleInput } from '../../workflows/input';
import type { LifecyclePlan } from '../../workflows/types';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const SHA = 'ab'.repeat(32);

function plan(raw: unknown): LifecyclePlan {
  const result = validateLifecycleInput(raw, NOW);
  if (!result.ok) assert.fail(`expected a valid input, got errors: ${result.errors.join(' | ')}`);
  return result.plan;
}

function errors(raw: unknown): string[] {
  const result = validateLifecycleInput(raw, NOW);
  if (result.ok) assert.fail(`expected the input to be refused, got plan ${JSON.stringify(result.plan)}`);
  return result.errors;
}

function onlyError(raw: unknown): string {
  const errs = errors(raw);
  assert.equal(errs.length, 1, `expected exactly one error, got: ${errs.join(' | ')}`);
  return errs[0] as string;
}

const compare = { prompt: 'a fox', task: 'compare', models: ['demo:shapes', 'demo:gradient'] };
const pair = [{ ref: `sha256:${SHA}`, model: 'sdxl' }, { ref: 'file:run-7/fox.png', model: 'flux', metadata: { steps: 30, tag: 'night', nsfw: false } }];

describe('workflows/input: compare lifecycles and brought candidates', () => {
  describe('compare', () => {
    it('should plan a compare lifecycle of two models with the default question, responses and hidden models', () => {
      const p = plan(compare);
      assert.equal(p.task, 'compare');
      assert.equal(p.question, DEFAULT_QUESTION);
      assert.deepEqual(p.quorum, { kind: 'responses', responses: DEFAULT_RESPONSES });
      assert.deepEqual([p.models, p.candidatesPerModel], [['demo:shapes', 'demo:gradient'], 1]);
      assert.equal('allowBothBad' in p, false, 'both bad is offered by default');
      assert.equal('revealModels' in p, false, 'models are hidden by default');
    });

    it('should take the question, responses, allowBothBad and revealModels as given', () => {
      const p = plan({ ...compare, question: '  Which image fits the description better?  ', responses: 15, allowBothBad: false, revealModels: true, candidates: 1 });
      assert.equal(p.question, 'Which image fits the description better?');
      assert.deepEqual(p.quorum, { kind: 'responses', responses: 15 });
      assert.equal(p.allowBothBad, false);
      assert.equal(p.revealModels, true);
    });

    it('should plan two brought candidates with their labels, sources and metadata, and no inference', () => {
      const p = plan({ prompt: 'a fox', task: 'compare', candidates: pair });
      assert.deepEqual(p.models, ['sdxl', 'flux']);
      assert.deepEqual(p.brought, [
        { source: { kind: 'artifact', sha256: SHA }, model: 'sdxl' },
        { source: { kind: 'file', path: 'run-7/fox.png' }, model: 'flux', metadata: { steps: 30, tag: 'night', nsfw: false } },
      ]);
    });

    it('should refuse anything but exactly two candidates', () => {
      assert.match(onlyError({ prompt: 'p', task: 'compare', model: 'demo:shapes' }), /^task: a compare lifecycle compares two candidates/);
      assert.match(onlyError({ prompt: 'p', task: 'compare', model: 'demo:shapes', candidates: 2 }), /^task: a compare lifecycle compares two candidates/);
      assert.match(onlyError({ ...compare, models: ['demo:shapes', 'demo:gradient', 'demo:text'] }), /^task:/);
      assert.equal(onlyError({ ...compare, candidates: 2 }), 'candidates: a compare lifecycle takes one candidate per model (leave candidates out, or 1)');
      assert.equal(onlyError({ prompt: 'p', task: 'compare', candidates: [pair[0]] }), 'candidates: a compare lifecycle takes exactly 2 brought candidates, got 1');
      assert.equal(onlyError({ prompt: 'p', task: 'compare', candidates: [...pair, pair[0]] }), 'candidates: a compare lifecycle takes exactly 2 brought candidates, got 3');
    });

    it('should refuse the thumbs quorum on compare lifecycles, and responses on thumbs ones', () => {
      assert.match(onlyError({ ...compare, votesPerCandidate: 3 }), /^votesPerCandidate: a compare lifecycle counts answers: use "responses"/);
      assert.match(onlyError({ ...compare, totalVotes: 3 }), /^totalVotes: a compare lifecycle counts answers/);
      assert.match(onlyError({ prompt: 'p', model: 'demo:shapes', responses: 3 }), /^responses: only for compare lifecycles/);
      for (const responses of [0, -1, 1.5, '10', MAX_RESPONSES + 1, null]) {
        assert.equal(onlyError({ ...compare, responses }), `responses: must be an integer from 1 to ${MAX_RESPONSES}`, String(responses));
      }
      assert.deepEqual(plan({ ...compare, responses: MAX_RESPONSES }).quorum, { kind: 'responses', responses: MAX_RESPONSES });
    });

    it('should refuse a bad task, question and flags, each naming its field', () => {
      assert.match(onlyError({ ...compare, task: 'rank' }), /^task: must be "thumbs"/);
      assert.match(onlyError({ ...compare, question: '' }), /^question: must be a non-empty string/);
      assert.match(onlyError({ ...compare, question: 'x'.repeat(MAX_QUESTION_LENGTH + 1) }), /^question: must be at most 500/);
      assert.match(onlyError({ ...compare, question: 'Which?\nIgnore the rest' }), /^question: must be one line/);
      assert.match(onlyError({ ...compare, question: 'Which \u202Eis better?' }), /^question: must be one line/);
      assert.match(onlyError({ prompt: 'p', model: 'demo:shapes', question: 'Which?' }), /^question: only compare lifecycles ask one/);
      assert.equal(onlyError({ ...compare, allowBothBad: 'no' }), 'allowBothBad: must be true or false');
      assert.equal(onlyError({ ...compare, revealModels: 1 }), 'revealModels: must be true or false');
    });
  });

  describe('thumbs', () => {
    it('should plan a thumbs lifecycle exactly as before compare lifecycles', () => {
      const p = plan({ prompt: 'p', model: 'demo:shapes' });
      assert.equal(taskOf(p), 'thumbs');
      for (const field of ['task', 'question', 'allowBothBad', 'revealModels', 'brought']) assert.equal(field in p, false, field);
      assert.equal(plan({ prompt: 'p', model: 'demo:shapes', task: 'thumbs' }).task, undefined);
    });

    it('should rate 1 to 8 brought candidates, labelled by the input\'s model or models', () => {
      const one = plan({ prompt: 'p', model: 'sdxl', candidates: [{ ref: `sha256:${SHA.toUpperCase()}` }] });
      assert.deepEqual(one.brought, [{ source: { kind: 'artifact', sha256: SHA }, model: 'sdxl' }]);
      const two = plan({ prompt: 'p', models: ['a', 'b'], candidates: [{ text: 'first answer' }, { ref: 'https://cdn.example.org/b.png', kind: 'image' }] });
      assert.deepEqual(two.brought, [
        { source: { kind: 'text', text: 'first answer' }, model: 'a' },
        { source: { kind: 'url', url: 'https://cdn.example.org/b.png' }, model: 'b', kind: 'image' },
      ]);
      assert.deepEqual(two.models, ['a', 'b']);
      const eight = plan({ prompt: 'p', model: 'm', candidates: Array.from({ length: 8 }, (_, i) => ({ text: `t${i}` })) });
      assert.equal(eight.brought?.length, 8);
      assert.deepEqual(eight.models, ['m']);
      assert.equal(onlyError({ prompt: 'p', model: 'm', candidates: [] }), 'candidates: bring 1 to 8 candidates, got 0');
      assert.equal(onlyError({ prompt: 'p', model: 'm', candidates: Array.from({ length: 9 }, () => ({ text: 't' })) }), 'candidates: bring 1 to 8 candidates, got 9');
    });
  });

  describe('brought candidates', () => {
    const one = (item: unknown, extra: Record<string, unknown> = {}) => onlyError({ prompt: 'p', candidates: [item], ...extra });

    it('should refuse references that are not a digest, a path under the import root or an https URL', () => {
      assert.equal(one({ ref: 'sha256:abc', model: 'm' }), 'candidates[0].ref: "sha256:" must be followed by 64 hex characters');
      assert.match(one({ ref: 'ftp://example.org/a.png', model: 'm' }), /^candidates\[0\]\.ref: "ftp:\/\/example.org\/a.png" is not "sha256:<hex>"/);
      assert.match(one({ ref: 'data:image/png;base64,AAAA', model: 'm' }), /^candidates\[0\]\.ref: .* is not "sha256:<hex>"/);
      assert.match(one({ ref: '/etc/passwd', model: 'm' }), /^candidates\[0\]\.ref:/);
      assert.equal(one({ ref: 'https://user:pw@example.org/a.png', model: 'm' }), 'candidates[0].ref: URLs with a user name or password are not downloaded');
      assert.match(one({ ref: 'https://', model: 'm' }), /is not a valid URL/);
      assert.match(one({ model: 'm' }), /^candidates\[0\]\.ref: required \(or "text"\)/);
      assert.equal(one({ ref: `sha256:${SHA}`, text: 't', model: 'm' }), 'candidates[0]: give "ref" or "text", not both');
      assert.match(one({ ref: 'x'.repeat(2049), model: 'm' }), /^candidates\[0\]\.ref: must be at most 2048/);
    });

    it('should refuse file paths that leave the import root or are not plain relative paths', () => {
      for (const [path, problem] of [
        ['../secrets/key.png', 'must not leave the import root'],
        ['a/../../b.png', 'must not leave the import root'],
        ['/etc/passwd', 'must be relative to the import root'],
        ['C:/images/a.png', 'must be relative to the import root'],
        ['a\\b.png', 'must use "/"'],
        ['a//b.png', 'must not hold empty or "." segments'],
        ['./a.png', 'must not hold empty or "." segments'],
        ['', 'is empty'],
        ['a\u0000.png', 'must not hold control characters'],
      ] as const) {
        assert.match(one({ ref: `file:${path}`, model: 'm' }), new RegExp(`^candidates\\[0\\]\\.ref: the path .* ${problem.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')}`), path);
        assert.ok(importPathProblem(path), path);
      }
      assert.equal(importPathProblem('run 7/fox (1).png'), undefined);
    });

    it('should refuse missing or bad labels, texts, kinds, metadata and unknown fields', () => {
      assert.match(one({ ref: `sha256:${SHA}` }), /^candidates\[0\]\.model: required/);
      assert.equal(one({ ref: `sha256:${SHA}`, model: 'a\nb' }), 'candidates[0].model: must be one line without control characters');
      assert.equal(one({ text: '', model: 'm' }), 'candidates[0].text: must be a non-empty string');
      assert.match(one({ text: 'x'.repeat(4001), model: 'm' }), /^candidates\[0\]\.text: must be at most 4000/);
      assert.equal(one({ ref: `sha256:${SHA}`, model: 'm', kind: 'video' }), 'candidates[0].kind: must be "image" or "text"');
      assert.equal(one({ text: 't', model: 'm', kind: 'image' }), 'candidates[0].kind: an inline text is a text');
      assert.match(one({ text: 't', model: 'm', metadata: [1] }), /^candidates\[0\]\.metadata: must be an object/);
      assert.match(one({ text: 't', model: 'm', metadata: { 'bad key': 1 } }), /^candidates\[0\]\.metadata: key "bad key"/);
      assert.match(one({ text: 't', model: 'm', metadata: { nested: { a: 1 } } }), /^candidates\[0\]\.metadata\.nested: must be/);
      assert.match(one({ text: 't', model: 'm', metadata: { n: Number.NaN } }), /^candidates\[0\]\.metadata\.n: must be/);
      assert.match(one({ text: 't', model: 'm', path: 'x' }), /^candidates\[0\]\.path: unknown field/);
      assert.match(one('sha256:x'), /^candidates\[0\]: must be an object/);
      assert.equal(one({ text: 't', model: 'a' }, { models: ['b'] }), 'candidates[0].model: "a" differs from models[0] "b"; give the label once');
      assert.equal(one({ text: 't', model: 'm' }, { params: { seed: 1 } }), 'params: brought candidates run no inference; leave params out');
    });

    it('should report a bad field of every candidate at once', () => {
      const errs = errors({ prompt: 'p', task: 'compare', candidates: [{ ref: 'file:../x', model: 'a' }, { ref: 'sha256:1', model: '' }] });
      assert.deepEqual(errs.map((e) => e.slice(0, e.indexOf(':', e.indexOf('.') + 1))), ['candidates[0].ref', 'candidates[1].ref', 'candidates[1].model']);
    });
  });
});
