import assert from 'node:assert/strict';
import {
  commandLifecycleId, parseCommandText, startInput, usage, versusInput, type CommandParse, type StartContext,
} from '../../../channels/slack/command-text';

function request(text: string) {
  const parsed = parseCommandText(text);
  assert.ok(parsed.ok, `expected ${JSON.stringify(text)} to parse: ${(parsed as { problem?: string }).problem}`);
  return parsed.request;
}

function problem(text: string): string {
  const parsed: CommandParse = parseCommandText(text);
  assert.ok(!parsed.ok, `expected ${JSON.stringify(text)} to be refused, got ${JSON.stringify(parsed)}`);
  return parsed.problem;
}

const context: StartContext = { channelId: 'C0FEEDBK01', defaults: {}, models: ['demo:shapes', 'demo:gradient', 'demo:text'], startedBy: 'r_0123456789abcdef01234567' };

function started(text: string, ctx: Partial<StartContext> = {}) {
  const r = request(text);
  assert.equal(r.kind, 'start');
  return startInput(r as Extract<typeof r, { kind: 'start' }>, { ...context, ...ctx });
}

describe('channels/slack/command-text', () => {
  describe('parseCommandText', () => {
    it('should read help, status and close, and nothing as help', () => {
      assert.deepEqual(request(''), { kind: 'help' });
      assert.deepEqual(request('   '), { kind: 'help' });
      assert.deepEqual(request('help'), { kind: 'help' });
      assert.deepEqual(request('Status'), { kind: 'status' });
      assert.deepEqual(request('close lc-slack-0123abcd'), { kind: 'close', lifecycleId: 'lc-slack-0123abcd' });
      assert.match(problem('close'), /Say which lifecycle to close/);
      assert.match(problem('close <!channel>'), /Say which lifecycle to close/);
    });

    it('should read next with or without a campaign, and a longer text starting with next as a prompt', () => {
      assert.deepEqual(request('next'), { kind: 'next' });
      assert.deepEqual(request('Next cmp-matchups-1'), { kind: 'next', campaignId: 'cmp-matchups-1' });
      assert.match(problem('next <!channel>'), /Say which campaign/);
      assert.equal(request('next big thing').kind, 'start');
      assert.match(usage(), /next \[campaign\]\*: your next item/);
    });

    it('should take a prompt with flags in any order, as --flag value or --flag=value', () => {
      assert.deepEqual(request('a red fox in the snow --model demo:gradient --n 2 --votes=5 --deadline 2h --vs demo:text'), {
        kind: 'start', prompt: 'a red fox in the snow', flags: { model: 'demo:gradient', n: 2, votes: 5, deadline: '2h', vs: 'demo:text' },
      });
      assert.deepEqual(request('--n 3 a fox'), { kind: 'start', prompt: 'a fox', flags: { n: 3 } });
    });

    it('should keep apostrophes and backslashes as they are, and group words with double quotes, typographic ones too', () => {
      assert.equal((request("a fox's den, the foxes' tails --n 1") as { prompt: string }).prompt, "a fox's den, the foxes' tails");
      assert.equal((request('a path C:\\temp\\x') as { prompt: string }).prompt, 'a path C:\\temp\\x');
      assert.deepEqual(request('"close-up of a fox --n 9" --n 2'), { kind: 'start', prompt: 'close-up of a fox --n 9', flags: { n: 2 } });
      assert.deepEqual(request('“help me draw” a cat'), { kind: 'start', prompt: 'help me draw a cat', flags: {} });
      assert.equal((request('"a sign saying \'hello\'"') as { prompt: string }).prompt, "a sign saying 'hello'");
      // A command word that is part of a prompt: more words, or quoted.
      assert.deepEqual(request('status of liberty, watercolor'), { kind: 'start', prompt: 'status of liberty, watercolor', flags: {} });
      assert.deepEqual(request('close up of a flower'), { kind: 'start', prompt: 'close up of a flower', flags: {} });
    });

    it('should take what follows -- as prompt, words with one dash as prompt, and an em dash as --', () => {
      assert.deepEqual(request('a sign -- --n is not a flag here'), { kind: 'start', prompt: 'a sign --n is not a flag here', flags: {} });
      assert.deepEqual(request('temperature -5 degrees'), { kind: 'start', prompt: 'temperature -5 degrees', flags: {} });
      assert.deepEqual(request('a fox \u2014n 2 \u2014model demo:text'), { kind: 'start', prompt: 'a fox', flags: { n: 2, model: 'demo:text' } });
      assert.deepEqual(request('a fox --- and a hare'), { kind: 'start', prompt: 'a fox --- and a hare', flags: {} });
    });

    it('should refuse bad flags in plain words, naming the flag', () => {
      assert.match(problem('a fox --size 3'), /There is no flag `--size`; the flags are `--model`, `--n`, `--votes`, `--deadline`, `--vs`/);
      assert.match(problem('a fox --n'), /`--n` needs a value, e\.g\. `--n 4`/);
      assert.match(problem('a fox --model --n 2'), /`--model` needs a value/);
      assert.match(problem('a fox --n 2 --n 3'), /`--n` is given twice/);
      assert.match(problem('a fox --n 9'), /`--n` must be a whole number from 1 to 8, not "9"/);
      assert.match(problem('a fox --n two'), /`--n` must be a whole number from 1 to 8/);
      assert.match(problem('a fox --n 0'), /from 1 to 8/);
      assert.match(problem('a fox --votes 10001'), /`--votes` must be a whole number from 1 to 10000/);
      assert.match(problem('a fox --deadline tomorrow'), /`--deadline` must be a duration like 30m, 2h or 1d/);
      assert.match(problem('a fox --deadline 400d'), /at most 366d/);
      assert.match(problem('--n 2'), /Give a prompt/);
      assert.match(problem('a "fox'), /A double quote is not closed/);
      assert.match(problem('a fox \uE000'), /private-use/);
    });
  });

  describe('startInput', () => {
    it('should start in the channel it was typed in, with the first allowed model and the lifecycle defaults, naming the starter', () => {
      const s = started('a red fox');
      assert.ok(s.ok);
      assert.deepEqual(s.input, { prompt: 'a red fox', model: 'demo:shapes', channel: 'slack:C0FEEDBK01', startedBy: context.startedBy, startedFrom: 'slack:/prefline' });
      assert.equal(s.summary, 'generating 4 candidates with demo:shapes…');
    });

    it('should take the channel defaults under the flags', () => {
      const defaults = { model: 'demo:text', candidates: 2, votesPerCandidate: 1, deadline: '30m' };
      const s = started('a fox', { defaults });
      assert.ok(s.ok);
      assert.deepEqual(s.input, { prompt: 'a fox', model: 'demo:text', candidates: 2, channel: 'slack:C0FEEDBK01', votesPerCandidate: 1, deadline: '30m', startedBy: context.startedBy, startedFrom: 'slack:/prefline' });
      assert.equal(s.summary, 'generating 2 candidates with demo:text…');
      const flagged = started('a fox --model demo:gradient --n 1 --votes 3 --deadline 2h', { defaults });
      assert.ok(flagged.ok);
      assert.deepEqual([flagged.input.model, flagged.input.candidates, flagged.input.votesPerCandidate, flagged.input.deadline], ['demo:gradient', 1, 3, '2h']);
      assert.equal(flagged.summary, 'generating 1 candidate with demo:gradient…');
    });

    it('should make --vs a compare lifecycle of both models, one candidate each, --votes counting answers', () => {
      assert.deepEqual(versusInput('demo:shapes', 'demo:gradient', undefined), { task: 'compare', models: ['demo:shapes', 'demo:gradient'] });
      const s = started('a fox --vs demo:gradient', { defaults: { candidates: 4, votesPerCandidate: 3 } });
      assert.ok(s.ok);
      assert.equal(s.input.task, 'compare');
      assert.deepEqual(s.input.models, ['demo:shapes', 'demo:gradient']);
      assert.equal(s.input.model, undefined);
      assert.equal(s.input.candidates, undefined, 'the channel\'s count is for thumbs lifecycles');
      assert.equal(s.input.votesPerCandidate, undefined, 'the channel\'s quorum is for thumbs lifecycles');
      assert.equal(s.summary, 'generating demo:shapes vs demo:gradient to compare…');
      const answers = started('a fox --vs demo:gradient --votes 15 --n 1');
      assert.ok(answers.ok);
      assert.equal(answers.input.responses, 15);
      const two = started('a fox --vs demo:gradient --n 2');
      assert.ok(!two.ok);
      assert.match(two.problem, /`--vs` compares one candidate of each model, so `--n` cannot be used with it/);
    });

    it('should refuse models that are not allowed, the same model twice, and what the lifecycle rules refuse', () => {
      const refused = (text: string, ctx: Partial<StartContext> = {}) => {
        const s = started(text, ctx);
        assert.ok(!s.ok, text);
        return s.problem;
      };
      assert.match(refused('a fox --model replicate:owner/model'), /The model `replicate:owner\/model` may not be started from Slack here; allowed: `demo:shapes`, `demo:gradient`, `demo:text`/);
      assert.match(refused('a fox --vs openai:gpt'), /The model `openai:gpt` may not be started/);
      assert.match(refused('a fox --vs demo:shapes'), /`--vs` needs a second model/);
      assert.match(refused('a fox', { models: [] }), /No model may be started/);
      assert.match(refused('a fox --vs demo:text --n 5'), /`--vs` compares one candidate of each model/);
      assert.match(refused(`${'x'.repeat(4001)}`), /prompt: must be at most 4000 characters/);
    });
  });

  it('should derive one lifecycle id per team and trigger, and refuse a trigger that is not one', () => {
    const id = commandLifecycleId('T0STANDIN', '13345224609.738474920.8088930838d88f008e0');
    assert.match(id ?? '', /^lc-slack-[0-9a-f]{20}$/);
    assert.equal(commandLifecycleId('T0STANDIN', '13345224609.738474920.8088930838d88f008e0'), id);
    assert.notEqual(commandLifecycleId('T0OTHER01', '13345224609.738474920.8088930838d88f008e0'), id);
    assert.notEqual(commandLifecycleId('T0STANDIN', '13345224609.738474920.8088930838d88f008e1'), id);
    assert.equal(commandLifecycleId('T0STANDIN', "x' OR 1=1"), undefined);
    assert.equal(commandLifecycleId('T0STANDIN', ''), undefined);
  });

  it('should name the command as the app calls it in the usage', () => {
    assert.match(usage('/ox'), /^\*\/ox <prompt>\*/);
    assert.match(usage(), /\/prefline status/);
  });
});
