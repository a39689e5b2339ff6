import assert from 'node:assert/strict';
import { ANSWERS, allowedResponseUrl, createEphemeralAnswer, pairText, receiptText, rejectionText, responseUrlOrigins } from '../../../channels/slack/answers';
import type { GatewayLogLevel } from '../../../core/http';
import type { JudgementReceipt, VoteOutcomeKind, VoteReceipt } from '../../../workflows/types';

const receipt = (outcome: VoteOutcomeKind): VoteReceipt => ({ outcome, candidate: { candidateId: 'c1', label: 'A', up: 2, down: 1, score: 1, votes: 3 } });

describe('channels/slack/answers', () => {
  describe('texts', () => {
    it('should tell the clicker what became of a candidate vote, with the tally now', () => {
      const tally = ' (A now has :+1: 2 · :-1: 1)';
      assert.equal(receiptText({ receipt: receipt('recorded'), value: 'up', label: 'A' }), `:white_check_mark: Recorded your :+1: on candidate A.${tally}`);
      assert.equal(receiptText({ receipt: receipt('changed'), value: 'down', label: 'A' }), `:white_check_mark: Changed your vote on candidate A to :-1:.${tally}`);
      assert.equal(receiptText({ receipt: receipt('retracted'), value: 'retract', label: 'A' }), `:white_check_mark: Withdrew your vote on candidate A.${tally}`);
      assert.equal(receiptText({ receipt: receipt('duplicate'), value: 'up', label: 'A' }), `Already recorded.${tally}`);
      assert.equal(receiptText({ receipt: receipt('unchanged'), value: 'up', label: 'A' }), `Your :+1: on candidate A already stood.${tally}`);
      assert.equal(receiptText({ receipt: receipt('unchanged'), value: 'retract', label: 'A' }), 'You had no vote on candidate A to withdraw.');
    });

    it('should word a comparison as the answer given, a tie and both bad as answers of their own, with progress but not who is winning', () => {
      const judged = (outcome: VoteOutcomeKind, standing = 3): JudgementReceipt => ({ outcome, judgements: { byCandidate: { c1: 2, c2: 0 }, tie: 1, bothBad: 0, standing } });
      assert.equal(pairText('a', judged('recorded')), ':white_check_mark: Recorded your answer: A is better. (3 answers so far)');
      assert.equal(pairText('b', judged('changed')), ':white_check_mark: Changed your answer to: B is better. (3 answers so far)');
      assert.equal(pairText('tie', judged('recorded', 1)), ':white_check_mark: Recorded your answer: a tie. (1 answer so far)');
      assert.equal(pairText('both_bad', judged('changed')), ':white_check_mark: Changed your answer to: both bad. (3 answers so far)');
      assert.equal(pairText('retract', judged('retracted', 2)), ':white_check_mark: Withdrew your answer. (2 answers so far)');
      assert.equal(pairText('retract', judged('unchanged')), 'You had no answer on this comparison to withdraw.');
      assert.equal(pairText('a', judged('duplicate')), 'Already recorded. (3 answers so far)');
      for (const o of ['recorded', 'changed', 'retracted', 'duplicate', 'unchanged'] as const) assert.doesNotMatch(pairText('a', judged(o)), /withdrawn|:\+1:|:-1:|2 .*0/);
    });

    it('should tell a campaign rater whether a check (gold) answer was right, and why not, with Slack\'s control characters escaped', () => {
      const judged: JudgementReceipt = { outcome: 'recorded', judgements: { byCandidate: { c1: 1, c2: 0 }, tie: 0, bothBad: 0, standing: 1 } };
      assert.equal(pairText('a', { ...judged, gold: { correct: true } }), ':white_check_mark: Recorded your answer: A is better. (1 answer so far)\n:dart: That is the expected answer.');
      assert.equal(
        pairText('b', { ...judged, gold: { correct: false, explanation: 'B invents a <date> & a source' } }),
        ':white_check_mark: Recorded your answer: B is better. (1 answer so far)\n:x: Not the expected answer. B invents a &lt;date&gt; &amp; a source',
      );
      const voted = receiptText({ receipt: { ...receipt('recorded'), gold: { correct: false, explanation: 'it is off topic' } }, value: 'up', label: 'A' });
      assert.equal(voted, ':white_check_mark: Recorded your :+1: on candidate A. (A now has :+1: 2 · :-1: 1)\n:x: Not the expected answer. it is off topic');
      assert.doesNotMatch(pairText('a', judged), /expected answer/, 'no verdict on a data item');
    });

    it('should explain every refusal', () => {
      assert.match(rejectionText('voting_closed'), /closed; your vote was not counted/);
      assert.match(rejectionText('voting_not_open'), /not opened yet/);
      assert.match(rejectionText('busy'), /busy/);
      assert.equal(rejectionText('unknown_candidate'), 'This vote could not be counted (unknown candidate).');
    });
  });

  describe('createEphemeralAnswer', () => {
    function harness(fetchAnswer: () => Promise<Response>) {
      const posted: unknown[] = [];
      const fetched: Array<{ url: string; body: unknown }> = [];
      const logs: Array<{ level: GatewayLogLevel; msg: string }> = [];
      const answer = createEphemeralAnswer({
        postEphemeral: async (args) => posted.push(args),
        responseUrlOrigins: ['https://hooks.slack.test'],
        fetch: (async (url: string, init: RequestInit) => {
          fetched.push({ url, body: JSON.parse(String(init.body)) });
          return fetchAnswer();
        }) as typeof fetch,
        log: (level, msg) => logs.push({ level, msg }),
      });
      return { answer, posted, fetched, logs };
    }

    it('should answer through response_url, ephemeral and without replacing the message', async () => {
      const h = harness(async () => new Response('ok'));
      await h.answer({ response_url: 'https://hooks.slack.test/actions/1' }, 'C0FEEDBK01', 'U0ALICE01', 'hello');
      assert.deepEqual(h.fetched, [{ url: 'https://hooks.slack.test/actions/1', body: { response_type: 'ephemeral', replace_original: false, text: 'hello' } }]);
      assert.deepEqual(h.posted, []);
    });

    it('should fall back to chat.postEphemeral without a usable response_url, and do nothing without a channel', async () => {
      const h = harness(async () => new Response('ok'));
      await h.answer({ response_url: 'javascript:alert(1)' }, 'C0FEEDBK01', 'U0ALICE01', ANSWERS.notARater);
      await h.answer({}, undefined, 'U0ALICE01', 'nowhere to go');
      assert.deepEqual(h.posted, [{ channel: 'C0FEEDBK01', user: 'U0ALICE01', text: ANSWERS.notARater }]);
      assert.deepEqual(h.fetched, []);
    });

    it('should call a response_url only on an allowed origin, else answer with chat.postEphemeral', async () => {
      const h = harness(async () => new Response('ok'));
      for (const url of ['https://evil.test/actions/1', 'http://hooks.slack.test/actions/1', 'https://hooks.slack.test.evil.test/x', 'https://user:pw@hooks.slack.test/x', 'http://169.254.169.254/latest/meta-data/']) {
        await h.answer({ response_url: url }, 'C0FEEDBK01', 'U0ALICE01', 'hi');
      }
      assert.deepEqual(h.fetched, []);
      assert.equal(h.posted.length, 5);
      assert.equal(h.logs.filter((l) => /not on an allowed origin/.test(l.msg)).length, 5);
    });

    it('should never throw: a refused or failed answer is logged', async () => {
      const refused = harness(async () => new Response('no', { status: 404 }));
      await refused.answer({ response_url: 'https://hooks.slack.test/actions/2' }, 'C0FEEDBK01', 'U0ALICE01', 'x');
      const failed = harness(async () => {
        throw new Error('ECONNRESET');
      });
      await failed.answer({ response_url: 'https://hooks.slack.test/actions/3' }, 'C0FEEDBK01', 'U0ALICE01', 'x');
      for (const h of [refused, failed]) assert.deepEqual(h.logs, [{ level: 'warn', msg: 'could not send the Slack ephemeral answer' }]);
    });
  });

  describe('response_url origins', () => {
    it('should default to Slack\'s and the Web API\'s origin, or take the configured ones', () => {
      assert.deepEqual(responseUrlOrigins(undefined, 'https://slack.com/api/'), ['https://hooks.slack.com', 'https://slack.com']);
      assert.deepEqual(responseUrlOrigins([], 'http://127.0.0.1:9/api/'), ['https://hooks.slack.com', 'http://127.0.0.1:9']);
      assert.deepEqual(responseUrlOrigins(['https://hooks.slack-gov.com'], 'https://slack-gov.com/api/'), ['https://hooks.slack-gov.com']);
    });

    it('should allow a URL only on one of them, exactly', () => {
      const origins = ['https://hooks.slack.com'];
      assert.equal(allowedResponseUrl('https://hooks.slack.com/actions/T1/2/x', origins), 'https://hooks.slack.com/actions/T1/2/x');
      for (const url of ['https://hooks.slack.com.evil.test/a', 'https://evil.test/?https://hooks.slack.com/', 'http://hooks.slack.com/a', 'https://hooks.slack.com:8443/a', 'javascript:alert(1)', 'not a url', 42, undefined]) {
        assert.equal(allowedResponseUrl(url, origins), undefined, String(url));
      }
    });
  });
});
