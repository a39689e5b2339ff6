import assert from 'node:assert/strict';
import {
  AVAILABLE_BACKENDS,
  DEFAULT_DEADLINE,
  MAX_CANDIDATES,
  MAX_DEADLINE_MS,
  MAX_LABEL_LENGTH,
  MAX_PROMPT_LENGTH,
  MAX_VOTES,
  START_SOURCES,
  deadlineAt,
  parseChannel,
  validateLifecycleInput,
  type InputValidation,
} from '../../workflows/input';
import type { LifecyclePlan } from '../../workflows/types';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function plan(raw: unknown, now = NOW): LifecyclePlan {
  const result = validateLifecycleInput(raw, now);
  if (!result.ok) assert.fail(`expected a valid input, got errors: ${result.errors.join(' | ')}`);
  return result.plan;
}

function errors(raw: unknown, now = NOW): string[] {
  const result: InputValidation = validateLifecycleInput(raw, now);
  if (result.ok) assert.fail(`expected the input to be refused, got plan ${JSON.stringify(result.plan)}`);
  assert.ok(result.errors.length > 0, 'a refusal must carry at least one error');
  return result.errors;
}

/** The single error of a refusal; fails if there are several. */
function onlyError(raw: unknown, now = NOW): string {
  const errs = errors(raw, now);
  assert.equal(errs.length, 1, `expected exactly one error, got: ${errs.join(' | ')}`);
  return errs[0] as string;
}

const base = { prompt: 'a red fox', model: 'demo:shapes' };

describe('workflows/input', () => {
  describe('parseChannel', () => {
    it('should accept web, trimmed', () => {
      assert.deepEqual(parseChannel('web'), { ok: true, channel: { kind: 'web' } });
      assert.deepEqual(parseChannel('  web '), { ok: true, channel: { kind: 'web' } });
    });

    it('should accept slack channels by name or id, and refuse malformed ones', () => {
      assert.deepEqual(parseChannel('slack:#ox-feedback'), { ok: true, channel: { kind: 'slack', channel: '#ox-feedback' } });
      assert.deepEqual(parseChannel(' slack:C0123ABCD '), { ok: true, channel: { kind: 'slack', channel: 'C0123ABCD' } });
      for (const raw of ['slack', 'slack:', 'slack:#Not Valid', 'slack:ratings']) {
        const parsed = parseChannel(raw);
        assert.equal(parsed.ok, false, raw);
        if (!parsed.ok) assert.match(parsed.error, /is not "slack:#channel-name" or "slack:<channel id>"/);
      }
    });

    it('should accept email channels, addresses (lowercased, once each) or a rater list, and refuse malformed ones', () => {
      assert.deepEqual(parseChannel('email:a@example.com, B@Example.com,a@example.com'), { ok: true, channel: { kind: 'email', recipients: ['a@example.com', 'b@example.com'] } });
      assert.deepEqual(parseChannel('email:@reviewers'), { ok: true, channel: { kind: 'email', recipients: [], list: 'reviewers' } });
      for (const raw of ['email:', 'email:not-an-address', 'email:a@example.com\r\nBcc: x@example.com']) assert.equal(parseChannel(raw).ok, false, raw);
    });

    it('should refuse unknown channels naming them', () => {
      const parsed = parseChannel('discord:#x');
      assert.equal(parsed.ok, false);
      if (parsed.ok) return;
      assert.match(parsed.error, /^channel: unknown channel "discord:#x"/);
    });

    it('should be case-sensitive', () => {
      assert.equal(parseChannel('WEB').ok, false);
    });
  });

  describe('deadlineAt', () => {
    it('should add a duration to the start time', () => {
      assert.equal(deadlineAt({ kind: 'duration', ms: 90_000 }, NOW), NOW + 90_000);
    });

    it('should return the fixed instant regardless of the start time', () => {
      const iso = '2026-03-02T00:00:00.000Z';
      assert.equal(deadlineAt({ kind: 'at', iso }, NOW), Date.parse(iso));
      assert.equal(deadlineAt({ kind: 'at', iso }, NOW + DAY), Date.parse(iso));
    });
  });

  describe('validateLifecycleInput', () => {
    describe('defaults', () => {
      it('should default to 4 candidates, 3 votes per candidate, 24h, web with one model', () => {
        const p = plan(base);
        assert.deepEqual(p, {
          prompt: 'a red fox',
          models: ['demo:shapes'],
          candidatesPerModel: 4,
          params: {},
          channel: { kind: 'web' },
          channelLabel: 'web',
          quorum: { kind: 'perCandidate', votes: 3 },
          deadline: { kind: 'duration', ms: 24 * HOUR },
        });
        assert.equal(DEFAULT_DEADLINE, '24h');
        assert.equal('campaign' in p, false);
        assert.equal('modelVersion' in p, false);
      });

      it('should default to 1 candidate per model with models', () => {
        const p = plan({ prompt: 'p', models: ['demo:shapes', 'demo:gradient', 'demo:text'] });
        assert.equal(p.candidatesPerModel, 1);
        assert.deepEqual(p.models, ['demo:shapes', 'demo:gradient', 'demo:text']);
      });

      it('should trim the prompt and keep optional labels trimmed', () => {
        const p = plan({ ...base, prompt: '  a fox  ', campaign: ' spring ', modelVersion: ' v2 ' });
        assert.equal(p.prompt, 'a fox');
        assert.equal(p.campaign, 'spring');
        assert.equal(p.modelVersion, 'v2');
      });

      it('should treat null labels as absent', () => {
        const p = plan({ ...base, campaign: null, modelVersion: null });
        assert.equal('campaign' in p, false);
        assert.equal('modelVersion' in p, false);
      });

      it('should accept a fully specified input', () => {
        const p = plan({
          prompt: 'p',
          models: ['demo:shapes', 'demo:text'],
          candidates: 4,
          params: { seed: 0, guidance: 7 },
          channel: ' web ',
          totalVotes: 10,
          deadline: '90s',
          campaign: 'c',
          modelVersion: 'v',
        });
        assert.equal(p.candidatesPerModel, 4);
        assert.deepEqual(p.params, { seed: 0, guidance: 7 });
        assert.equal(p.channelLabel, 'web');
        assert.deepEqual(p.quorum, { kind: 'total', votes: 10 });
        assert.deepEqual(p.deadline, { kind: 'duration', ms: 90_000 });
      });
    });

    describe('non-object inputs', () => {
      for (const [name, raw] of [['null', null], ['undefined', undefined], ['an array', [base]], ['a string', JSON.stringify(base)], ['a number', 42], ['a boolean', true]] as const) {
        it(`should refuse ${name} with one "input:" error`, () => {
          const error = onlyError(raw);
          assert.match(error, /^input: must be one JSON object/);
        });
      }
    });

    describe('prompt', () => {
      it('should require a prompt', () => {
        assert.equal(onlyError({ model: 'demo:shapes' }), 'prompt: required, a non-empty string');
      });

      it('should refuse an empty, blank or non-string prompt', () => {
        for (const prompt of ['', '   ', 42, null, ['a']]) {
          assert.match(onlyError({ ...base, prompt }), /^prompt: required/, `prompt ${JSON.stringify(prompt)}`);
        }
      });

      it('should refuse a prompt over the limit, saying how long it was', () => {
        const prompt = 'x'.repeat(MAX_PROMPT_LENGTH + 1);
        const error = onlyError({ ...base, prompt });
        assert.match(error, /^prompt: must be at most 4000 characters/);
        assert.ok(error.includes(`got ${MAX_PROMPT_LENGTH + 1}`), error);
      });

      it('should accept a prompt exactly at the limit', () => {
        assert.equal(plan({ ...base, prompt: 'x'.repeat(MAX_PROMPT_LENGTH) }).prompt.length, MAX_PROMPT_LENGTH);
      });
    });

    describe('unknown fields', () => {
      it('should name each unknown field and list the known ones', () => {
        const errs = errors({ ...base, promt: 'typo', seed: 1 });
        assert.equal(errs.length, 2);
        assert.match(errs[0] as string, /^promt: unknown field; known fields: .*prompt/);
        assert.match(errs[1] as string, /^seed: unknown field/);
        for (const known of ['model', 'models', 'candidates', 'params', 'channel', 'votesPerCandidate', 'totalVotes', 'deadline', 'campaign', 'modelVersion']) {
          assert.ok((errs[0] as string).includes(known), `known fields should list ${known}`);
        }
      });
    });

    describe('model and models', () => {
      it('should require one of them', () => {
        assert.match(onlyError({ prompt: 'p' }), /^model: required \(or "models"/);
      });

      it('should refuse both together', () => {
        assert.equal(onlyError({ prompt: 'p', model: 'demo:shapes', models: ['demo:shapes', 'demo:text'] }), 'model, models: give one of them, not both');
      });

      it('should refuse models with fewer than two entries or not an array', () => {
        for (const models of [[], ['demo:shapes'], 'demo:shapes', { 0: 'demo:shapes' }]) {
          assert.match(onlyError({ prompt: 'p', models }), /^models: must be an array of at least two/, JSON.stringify(models));
        }
      });

      it('should refuse a repeated model', () => {
        assert.equal(onlyError({ prompt: 'p', models: ['demo:shapes', 'demo:text', 'demo:shapes'] }), 'models: must not repeat a model');
      });

      it('should name the index of a bad entry in models', () => {
        const errs = errors({ prompt: 'p', models: ['demo:shapes', 'stability:sdxl', 'demo:nope', 7] });
        assert.equal(errs.length, 3);
        assert.match(errs[0] as string, /^models\[1\]: unknown backend "stability"/);
        assert.match(errs[1] as string, /^models\[2\]: unknown demo model "nope"/);
        assert.match(errs[2] as string, /^models\[3\]: must be a string "backend:model"/);
      });

      it('should refuse references not of the form backend:model', () => {
        for (const model of ['shapes', ':shapes', 'demo:', 'demo']) {
          assert.match(onlyError({ prompt: 'p', model }), /^model: ".*" is not of the form "backend:model"/, model);
        }
        for (const model of ['', '  ', 3, null, {}]) {
          assert.match(onlyError({ prompt: 'p', model }), /^model: must be a string "backend:model"/, JSON.stringify(model));
        }
      });

      it('should refuse an unknown backend naming it and the available ones', () => {
        const error = onlyError({ prompt: 'p', model: 'stability:sdxl' });
        assert.equal(error, `model: unknown backend "stability"; available: ${Object.keys(AVAILABLE_BACKENDS).join(', ')}`);
        assert.ok(Object.keys(AVAILABLE_BACKENDS).includes('demo'));
        assert.match(onlyError({ prompt: 'p', model: 'Demo:shapes' }), /^model: unknown backend "Demo"/);
      });

      it('should refuse an unknown demo model listing the demo models', () => {
        const error = onlyError({ prompt: 'p', model: 'demo:portrait' });
        assert.equal(error, 'model: unknown demo model "portrait"; available: demo:shapes, demo:gradient, demo:text');
      });

      it('should accept well-formed replicate and openai references when those backends are available', function () {
        if (!(AVAILABLE_BACKENDS['replicate'] instanceof RegExp) || !(AVAILABLE_BACKENDS['openai'] instanceof RegExp)) this.skip();
        for (const model of ['replicate:acme/painter', 'replicate:acme/painter:' + 'a'.repeat(64), 'replicate:black-forest-labs/flux.1_dev']) {
          assert.deepEqual(plan({ prompt: 'p', model }).models, [model]);
        }
        for (const model of ['openai:gpt-4o', 'openai:meta-llama/Llama-3.1-8B-Instruct', 'openai:llama3:8b']) {
          assert.deepEqual(plan({ prompt: 'p', model }).models, [model]);
        }
        assert.deepEqual(plan({ prompt: 'p', models: ['demo:shapes', 'replicate:acme/painter', 'openai:gpt-4o'] }).models.length, 3);
      });

      it('should refuse malformed replicate and openai references naming the expected form', function () {
        if (!(AVAILABLE_BACKENDS['replicate'] instanceof RegExp) || !(AVAILABLE_BACKENDS['openai'] instanceof RegExp)) this.skip();
        for (const model of ['replicate:painter', 'replicate:Acme/Painter', 'replicate:acme/', 'replicate:/painter', 'replicate:acme/painter/extra', 'replicate:acme/painter:']) {
          const error = onlyError({ prompt: 'p', model });
          assert.equal(error, `model: "${model}" is not a valid replicate model reference; expected replicate:owner/name or replicate:owner/name:version`);
        }
        for (const model of ['openai:-gpt', 'openai:gpt 4', 'openai:' + 'a'.repeat(201)]) {
          const error = onlyError({ prompt: 'p', model });
          assert.match(error, /^model: ".*" is not a valid openai model reference; expected openai:<model name on your server>$/, model);
        }
      });

      it('should accept every demo model', () => {
        for (const m of ['shapes', 'gradient', 'text']) assert.deepEqual(plan({ prompt: 'p', model: `demo:${m}` }).models, [`demo:${m}`]);
      });
    });

    describe('candidates', () => {
      it('should accept 1 to 8 with one model', () => {
        assert.equal(plan({ ...base, candidates: 1 }).candidatesPerModel, 1);
        assert.equal(plan({ ...base, candidates: MAX_CANDIDATES }).candidatesPerModel, MAX_CANDIDATES);
      });

      it('should refuse out-of-range and non-integer values naming the field', () => {
        for (const candidates of [0, -1, 9, 1.5, '4', null, Number.NaN, Infinity]) {
          const errs = errors({ ...base, candidates });
          assert.ok(errs.includes('candidates: must be an integer from 1 to 8'), `${String(candidates)}: ${errs.join(' | ')}`);
        }
      });

      it('should refuse more than 8 candidates in total across models', () => {
        const error = onlyError({ prompt: 'p', models: ['demo:shapes', 'demo:gradient', 'demo:text'], candidates: 3 });
        assert.equal(error, 'candidates: 3 per model × 3 models is more than 8 candidates');
      });

      it('should accept exactly 8 candidates in total across models', () => {
        assert.equal(plan({ prompt: 'p', models: ['demo:shapes', 'demo:text'], candidates: 4 }).candidatesPerModel, 4);
      });

      it('should apply the per-model rule to the default of 1 when there are more than 8 models', () => {
        const models = Array.from({ length: 9 }, (_, i) => `demo:m${i}`);
        const errs = errors({ prompt: 'p', models });
        assert.ok(errs.includes('candidates: 1 per model × 9 models is more than 8 candidates'), errs.join(' | '));
      });
    });

    describe('params', () => {
      it('should refuse params that are not an object', () => {
        for (const params of [null, [], 'seed=1', 42]) {
          assert.equal(onlyError({ ...base, params }), 'params: must be a JSON object, e.g. {"seed": 42}', JSON.stringify(params));
        }
      });

      it('should refuse a negative, fractional, unsafe or non-number seed', () => {
        for (const seed of [-1, 1.5, '42', Number.MAX_SAFE_INTEGER + 1, null, true]) {
          assert.equal(onlyError({ ...base, params: { seed } }), 'params.seed: must be a non-negative integer', String(seed));
        }
      });

      it('should keep other params untouched and accept seed 0', () => {
        assert.deepEqual(plan({ ...base, params: { seed: 0, steps: 20, style: { a: 1 } } }).params, { seed: 0, steps: 20, style: { a: 1 } });
      });
    });

    describe('channel', () => {
      it('should accept slack and email', () => {
        assert.deepEqual(plan({ ...base, channel: 'slack:#ratings' }).channel, { kind: 'slack', channel: '#ratings' });
        assert.deepEqual(plan({ ...base, channel: 'email:a@example.com' }).channel, { kind: 'email', recipients: ['a@example.com'] });
      });

      it('should refuse an unknown channel and a non-string channel', () => {
        assert.match(onlyError({ ...base, channel: 'teams' }), /^channel: unknown channel "teams"/);
        assert.equal(onlyError({ ...base, channel: { kind: 'web' } }), 'channel: must be a string, e.g. "web"');
      });
    });

    describe('delivery', () => {
      it('should take "assigned" on a campaign\'s web, slack and email lifecycles, and leave it out otherwise', () => {
        assert.equal(plan({ ...base, campaign: 'c1', delivery: 'assigned' }).delivery, 'assigned');
        assert.equal(plan({ ...base, channel: 'slack:#ratings', campaign: 'c1', delivery: 'assigned' }).delivery, 'assigned');
        assert.equal(plan({ ...base, channel: 'email:@reviewers', campaign: 'c1', delivery: 'assigned' }).delivery, 'assigned');
        assert.equal('delivery' in plan({ ...base, channel: 'slack:#ratings', campaign: 'c1' }), false);
      });

      it('should refuse another value, and a lifecycle without a campaign (web too)', () => {
        assert.equal(onlyError({ ...base, channel: 'slack:#ratings', campaign: 'c1', delivery: 'broadcast' }), 'delivery: must be "assigned" (raters are handed the lifecycle by its campaign), or absent');
        assert.equal(onlyError({ ...base, delivery: 'assigned' }), 'delivery: "assigned" needs a campaign to hand the lifecycle to raters (campaign)');
        assert.equal(onlyError({ ...base, channel: 'slack:#ratings', delivery: 'assigned' }), 'delivery: "assigned" needs a campaign to hand the lifecycle to raters (campaign)');
      });
    });

    describe('quorum', () => {
      it('should take votesPerCandidate', () => {
        assert.deepEqual(plan({ ...base, votesPerCandidate: 7 }).quorum, { kind: 'perCandidate', votes: 7 });
      });

      it('should take totalVotes', () => {
        assert.deepEqual(plan({ ...base, totalVotes: MAX_VOTES }).quorum, { kind: 'total', votes: MAX_VOTES });
      });

      it('should refuse votesPerCandidate and totalVotes together', () => {
        assert.equal(onlyError({ ...base, votesPerCandidate: 2, totalVotes: 5 }), 'votesPerCandidate, totalVotes: give one of them, not both');
      });

      it('should refuse out-of-range values naming the field', () => {
        for (const v of [0, -3, 2.5, MAX_VOTES + 1, '3']) {
          assert.equal(onlyError({ ...base, votesPerCandidate: v }), `votesPerCandidate: must be an integer from 1 to ${MAX_VOTES}`);
          assert.equal(onlyError({ ...base, totalVotes: v }), `totalVotes: must be an integer from 1 to ${MAX_VOTES}`);
        }
      });
    });

    describe('deadline', () => {
      it('should accept durations', () => {
        assert.deepEqual(plan({ ...base, deadline: '90s' }).deadline, { kind: 'duration', ms: 90_000 });
        assert.deepEqual(plan({ ...base, deadline: '1h30m' }).deadline, { kind: 'duration', ms: 90 * 60_000 });
        assert.deepEqual(plan({ ...base, deadline: '2d' }).deadline, { kind: 'duration', ms: 2 * DAY });
      });

      it('should accept the bounds 1s and 366d and refuse just outside them', () => {
        assert.deepEqual(plan({ ...base, deadline: '1s' }).deadline, { kind: 'duration', ms: 1000 });
        assert.deepEqual(plan({ ...base, deadline: '366d' }).deadline, { kind: 'duration', ms: MAX_DEADLINE_MS });
        assert.equal(onlyError({ ...base, deadline: '999ms' }), 'deadline: must be between 1s and 366d');
        assert.equal(onlyError({ ...base, deadline: '367d' }), 'deadline: must be between 1s and 366d');
        assert.equal(onlyError({ ...base, deadline: '0s' }), 'deadline: must be between 1s and 366d');
      });

      it('should accept an ISO time with Z, normalised', () => {
        assert.deepEqual(plan({ ...base, deadline: '2026-03-02T18:00:00Z' }).deadline, { kind: 'at', iso: '2026-03-02T18:00:00.000Z' });
        assert.deepEqual(plan({ ...base, deadline: '2026-03-02T18:00Z' }).deadline, { kind: 'at', iso: '2026-03-02T18:00:00.000Z' });
      });

      it('should accept an ISO time with an offset, converted to UTC', () => {
        assert.deepEqual(plan({ ...base, deadline: '2026-03-02T18:00:00.5+02:00' }).deadline, { kind: 'at', iso: '2026-03-02T16:00:00.500Z' });
        assert.deepEqual(plan({ ...base, deadline: '2026-03-01T09:00:00-05:00' }).deadline, { kind: 'at', iso: '2026-03-01T14:00:00.000Z' });
      });

      it('should refuse an ISO time without a zone', () => {
        const error = onlyError({ ...base, deadline: '2026-03-02T18:00:00' });
        assert.match(error, /^deadline: "2026-03-02T18:00:00" is neither a duration .* nor an ISO time with a zone/);
      });

      it('should refuse an ISO time in the past, and exactly now', () => {
        assert.equal(onlyError({ ...base, deadline: '2026-03-01T11:59:59Z' }), 'deadline: 2026-03-01T11:59:59Z is in the past');
        assert.equal(onlyError({ ...base, deadline: '2026-03-01T12:00:00Z' }), 'deadline: 2026-03-01T12:00:00Z is in the past');
        // An offset time that reads later than now locally but is earlier in UTC.
        assert.match(onlyError({ ...base, deadline: '2026-03-01T13:00:00+02:00' }), /is in the past$/);
      });

      it('should resolve ISO deadlines against the given now', () => {
        const deadline = '2026-03-05T00:00:00Z';
        assert.equal(validateLifecycleInput({ ...base, deadline }, NOW).ok, true);
        assert.match(onlyError({ ...base, deadline }, Date.parse('2026-03-06T00:00:00Z')), /is in the past/);
      });

      it('should refuse an ISO time too far out', () => {
        const tooFar = new Date(NOW + MAX_DEADLINE_MS + 1000).toISOString();
        assert.equal(onlyError({ ...base, deadline: tooFar }), 'deadline: must be within 366 days');
        const justInside = new Date(NOW + MAX_DEADLINE_MS).toISOString();
        assert.deepEqual(plan({ ...base, deadline: justInside }).deadline, { kind: 'at', iso: justInside });
      });

      it('should refuse garbage and impossible dates', () => {
        for (const deadline of ['tomorrow', '', '24', '2026-13-45T99:99:99Z', '2026-03-02', 'PT1H', '1 day']) {
          assert.match(onlyError({ ...base, deadline }), /^deadline: ".*" is neither a duration/, deadline);
        }
      });

      it('should accept an ISO time with surrounding whitespace, like a duration', () => {
        assert.deepEqual(plan({ ...base, deadline: ' 90s ' }).deadline, { kind: 'duration', ms: 90_000 });
        assert.deepEqual(plan({ ...base, deadline: ' 2026-03-02T18:00:00Z ' }).deadline, { kind: 'at', iso: '2026-03-02T18:00:00.000Z' });
      });

      it('should refuse calendar dates that do not exist instead of rolling them over', () => {
        for (const deadline of ['2026-02-30T12:00:00Z', '2026-04-31T12:00:00Z', '2026-02-29T12:00:00+01:00', '2026-03-02T25:00:00Z']) {
          assert.match(onlyError({ ...base, deadline }), /^deadline: ".*" is neither a duration/, deadline);
        }
        // A leap day that exists is fine.
        assert.deepEqual(plan({ ...base, deadline: '2026-12-31T23:30:00-01:00' }).deadline, { kind: 'at', iso: '2027-01-01T00:30:00.000Z' });
        assert.deepEqual(plan({ ...base, deadline: '2028-02-29T00:00:00Z' }, Date.parse('2028-02-01T00:00:00Z')).deadline, { kind: 'at', iso: '2028-02-29T00:00:00.000Z' });
      });

      it('should refuse a non-string deadline', () => {
        for (const deadline of [3600, null, { at: 'x' }]) {
          assert.match(onlyError({ ...base, deadline }), /^deadline: must be a duration like "30m"/, JSON.stringify(deadline));
        }
      });
    });

    describe('labels', () => {
      for (const field of ['campaign', 'modelVersion'] as const) {
        it(`should refuse an empty or non-string ${field}`, () => {
          for (const value of ['', '   ', 3, ['x']]) {
            assert.equal(onlyError({ ...base, [field]: value }), `${field}: must be a non-empty string when given`, JSON.stringify(value));
          }
        });

        it(`should refuse a ${field} over ${MAX_LABEL_LENGTH} characters and accept exactly ${MAX_LABEL_LENGTH}`, () => {
          assert.equal(onlyError({ ...base, [field]: 'x'.repeat(MAX_LABEL_LENGTH + 1) }), `${field}: must be at most ${MAX_LABEL_LENGTH} characters`);
          assert.equal(plan({ ...base, [field]: 'x'.repeat(MAX_LABEL_LENGTH) })[field], 'x'.repeat(MAX_LABEL_LENGTH));
        });
      }
    });

    describe('provenance', () => {
      const starter = 'r_0123456789abcdef01234567';

      it('should carry who started the lifecycle and from where, for every known source', () => {
        assert.deepEqual(
          (({ startedBy, startedFrom }) => ({ startedBy, startedFrom }))(plan({ ...base, startedBy: starter, startedFrom: 'slack:/prefline' })),
          { startedBy: starter, startedFrom: 'slack:/prefline' },
        );
        assert.equal(plan({ ...base, startedBy: starter, startedFrom: 'web:prompt-box' }).startedBy, starter);
        for (const source of START_SOURCES) assert.equal(plan({ ...base, startedFrom: source, startedBy: starter }).startedFrom, source);
        // The CLI and the Temporal UI need not name anyone.
        assert.equal(plan({ ...base, startedFrom: 'cli' }).startedBy, undefined);
        assert.equal(plan({ ...base, startedFrom: 'temporal-ui' }).startedFrom, 'temporal-ui');
        const none = plan(base);
        assert.ok(!('startedBy' in none) && !('startedFrom' in none), 'absent when the input does not say');
      });

      it('should refuse a starter that is not a pseudonym: names and Slack ids never enter a lifecycle', () => {
        for (const value of ['alice', 'U0ALICE01', 'r_0123', `${starter}0`, 'R_0123456789ABCDEF01234567', 42, '']) {
          assert.match(onlyError({ ...base, startedBy: value, startedFrom: 'slack:/prefline' }), /^startedBy: must be a rater pseudonym/, JSON.stringify(value));
        }
      });

      it('should refuse an unknown source, a starter without a source, and the Slack and web sources without a starter', () => {
        for (const value of ['slack', 'web', 'slack:/ox', 'api', 7]) {
          assert.match(onlyError({ ...base, startedFrom: value }), /^startedFrom: must be one of slack:\/prefline, web:prompt-box, cli, temporal-ui$/, JSON.stringify(value));
        }
        assert.equal(onlyError({ ...base, startedBy: starter }), 'startedBy: needs startedFrom, where the lifecycle was started from');
        assert.equal(onlyError({ ...base, startedFrom: 'slack:/prefline' }), 'startedBy: required with startedFrom "slack:/prefline"');
        assert.equal(onlyError({ ...base, startedFrom: 'web:prompt-box' }), 'startedBy: required with startedFrom "web:prompt-box"');
      });
    });

    describe('several errors', () => {
      it('should report every problem at once, each naming its field', () => {
        const errs = errors({
          prompt: '',
          model: 'stability:sdxl',
          candidates: 20,
          params: { seed: -4 },
          channel: 'slack:#Not Valid',
          votesPerCandidate: 0,
          deadline: 'soon',
          campaign: '',
          modelVersion: 'v'.repeat(MAX_LABEL_LENGTH + 1),
          extra: true,
        });
        const fields = errs.map((e) => e.slice(0, e.indexOf(':')));
        assert.deepEqual(fields, ['extra', 'prompt', 'model', 'candidates', 'params.seed', 'channel', 'votesPerCandidate', 'deadline', 'campaign', 'modelVersion']);
      });

      it('should not let one bad field hide a valid plan from another', () => {
        // Only the prompt is wrong: exactly one error, the rest was accepted.
        assert.match(onlyError({ ...base, prompt: '   ', candidates: 2, deadline: '1h', totalVotes: 4 }), /^prompt:/);
      });
    });
  });
});
