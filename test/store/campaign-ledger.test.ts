/**
 * The ledger's campaign tables (schema 8, 9): idempotent commits, the row's latest counts, raters upserted
 * by rater, gold lifecycles kept once, items' excluded raters' answers, and the upgrade of older ledgers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CampaignCommitRequest } from '../../store/ledger-types';
import type { CampaignGoldRecord, CampaignRaterRecord } from '../../workflows/types';
import { LEDGER_SCHEMA_VERSION, Ledger } from '../../store/Ledger';
import { commitCampaign } from '../../store/campaign-ledger';

function request(phase: CampaignCommitRequest['campaign']['phase'], outcomes: number[], done = outcomes.length): CampaignCommitRequest {
  return {
    campaign: {
      campaignId: 'cmp-1', runId: 'run-1', label: 'spring', task: 'compare', responses: 3, channel: 'web', itemCount: 4,
      startedAt: '2026-03-01T12:00:00.000Z', deadlineAt: '2026-03-04T12:00:00.000Z', phase,
      counts: { items: 4, done, failed: 0, open: 0, pending: 4 - done, answers: done * 3, reserved: 0, ended: { quorum: done } },
      ...(phase === 'completed' ? { closedAt: '2026-03-02T12:00:00.000Z' } : {}),
    },
    outcomes: outcomes.map((item) => ({ item, lifecycleId: `cmp-1-item-${item}`, end: 'quorum' as const, answers: 3, raters: 3, attempts: 1, closedAt: '2026-03-01T13:00:00.000Z' })),
  };
}

describe('store: campaign tables', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-campaign-ledger-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should keep each outcome once across retried commits, and the campaign row at its latest counts', async () => {
    const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'));
    try {
      const commit = (r: CampaignCommitRequest) => ledger.withConnection((c) => commitCampaign(c, r));
      assert.deepEqual(await commit(request('running', [])), { itemsInLedger: 0 });
      assert.deepEqual(await commit(request('running', [0, 1])), { itemsInLedger: 2 });
      assert.deepEqual(await commit(request('running', [0, 1])), { itemsInLedger: 2 }, 'a retried commit adds nothing');
      assert.deepEqual(await commit(request('completed', [2, 3], 4)), { itemsInLedger: 4 });
      const campaigns = await ledger.query(`SELECT campaign_id, phase, items_done, answers, closed_at IS NOT NULL AS closed FROM campaigns`);
      assert.deepEqual(campaigns.rows, [{ campaign_id: 'cmp-1', phase: 'completed', items_done: 4, answers: 12, closed: true }]);
      const items = await ledger.query(`SELECT item, end_reason, answers FROM campaign_items ORDER BY item`);
      assert.deepEqual(items.rows.map((r) => r['item']), [0, 1, 2, 3]);
    } finally {
      ledger.closeSync();
    }
  });

  it('should upsert each rater by rater and keep each gold lifecycle once, the same rows after a retried commit', async () => {
    const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'));
    try {
      const commit = (r: CampaignCommitRequest) => ledger.withConnection((c) => commitCampaign(c, r));
      const rater = (name: string, over: Partial<CampaignRaterRecord> = {}): CampaignRaterRecord => ({
        rater: name, answers: 4, goldAnswered: 2, goldCorrect: 2, score: 0.8, status: 'active', ...over,
      });
      const gold: CampaignGoldRecord[] = [
        { gold: 0, lifecycleId: 'cmp-1-gold-0', answer: 'first', explanation: 'the left one has five fingers' },
        { gold: 1, lifecycleId: 'cmp-1-gold-1', answer: 'tie', explanation: 'both match' },
      ];
      const first: CampaignCommitRequest = { ...request('running', [0]), raters: [rater('r-good'), rater('r-bad', { goldCorrect: 0, score: 0.3 })], gold };
      await commit(first);
      const excluded = rater('r-bad', {
        answers: 6, goldAnswered: 4, goldCorrect: 0, score: 0.17, status: 'excluded', reason: 'gold accuracy 0.17 below 0.70 after 4 gold answers',
        excludedAt: '2026-03-01T14:00:00.000Z',
      });
      // The gold list again, with a changed explanation: a gold row is written once, never replaced.
      const second: CampaignCommitRequest = {
        ...request('running', [0, 1]), raters: [excluded], gold: [...gold, { gold: 2, lifecycleId: 'cmp-1-gold-2', answer: 'second', explanation: 'b is sharper' }],
      };
      const changed = { ...second, gold: second.gold!.map((g) => ({ ...g, explanation: 'changed' })) };
      await commit(second);
      const read = async () => ({
        raters: (await ledger.query(
          `SELECT campaign_id, rater, answers, gold_answered, gold_correct, score, status, reason, excluded_at IS NOT NULL AS has_excluded_at
             FROM campaign_raters ORDER BY rater`,
        )).rows,
        gold: (await ledger.query(`SELECT run_id, gold, lifecycle_id, answer, explanation FROM campaign_gold ORDER BY gold`)).rows,
      });
      const want = await read();
      assert.deepEqual(want.raters, [
        { campaign_id: 'cmp-1', rater: 'r-bad', answers: 6, gold_answered: 4, gold_correct: 0, score: 0.17, status: 'excluded',
          reason: 'gold accuracy 0.17 below 0.70 after 4 gold answers', has_excluded_at: true },
        { campaign_id: 'cmp-1', rater: 'r-good', answers: 4, gold_answered: 2, gold_correct: 2, score: 0.8, status: 'active', reason: null, has_excluded_at: false },
      ]);
      assert.deepEqual(want.gold.map((g) => [g['gold'], g['lifecycle_id'], g['answer'], g['explanation']]), [
        [0, 'cmp-1-gold-0', 'first', 'the left one has five fingers'], [1, 'cmp-1-gold-1', 'tie', 'both match'], [2, 'cmp-1-gold-2', 'second', 'b is sharper'],
      ]);
      await commit(second);
      await commit(changed);
      assert.deepEqual(await read(), want, 'retried commits leave the same rows');
    } finally {
      ledger.closeSync();
    }
  });

  it('should keep an item\'s answers by excluded raters apart from its counted answers (0 when none)', async () => {
    const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'));
    try {
      const r = request('running', [0, 1]);
      r.outcomes[1] = { ...r.outcomes[1]!, raters: 4, attempts: 2, excludedAnswers: 1 };
      await ledger.withConnection((c) => commitCampaign(c, r));
      const items = await ledger.query(`SELECT item, answers, excluded_answers, raters, attempts FROM campaign_items ORDER BY item`);
      assert.deepEqual(items.rows, [
        { item: 0, answers: 3, excluded_answers: 0, raters: 3, attempts: 1 }, { item: 1, answers: 3, excluded_answers: 1, raters: 4, attempts: 2 },
      ]);
    } finally {
      ledger.closeSync();
    }
  });

  it('should add excluded_answers (0) to the items of a schema 8 ledger when the writer opens it, and take new outcomes after', async () => {
    const path = join(dir, 'ledger.duckdb');
    const old = await Ledger.openWriter(path);
    await old.withConnection(async (c) => {
      await c.run('DROP TABLE campaign_items');
      await c.run(`CREATE TABLE campaign_items (
         run_id VARCHAR NOT NULL, campaign_id VARCHAR NOT NULL, item INTEGER NOT NULL, lifecycle_id VARCHAR NOT NULL, end_reason VARCHAR NOT NULL,
         answers INTEGER NOT NULL, raters INTEGER NOT NULL, attempts INTEGER NOT NULL, message VARCHAR, closed_at TIMESTAMPTZ NOT NULL,
         committed_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (run_id, item))`);
      await c.run(`INSERT INTO campaign_items VALUES ('run-1', 'cmp-1', 0, 'cmp-1-item-0', 'quorum', 3, 3, 1, NULL, '2026-03-01T13:00:00Z', '2026-03-01T13:00:01Z')`);
      await c.run(`UPDATE ledger_meta SET value = '8' WHERE key = 'schema_version'`);
    });
    old.closeSync();
    const upgraded = await Ledger.openWriter(path);
    try {
      assert.deepEqual((await upgraded.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).rows, [{ value: String(LEDGER_SCHEMA_VERSION) }]);
      const r = request('running', [0, 1]);
      r.outcomes[1] = { ...r.outcomes[1]!, excludedAnswers: 2 };
      assert.deepEqual(await upgraded.withConnection((c) => commitCampaign(c, r)), { itemsInLedger: 2 });
      const items = await upgraded.query(`SELECT item, excluded_answers FROM campaign_items ORDER BY item`);
      assert.deepEqual(items.rows, [{ item: 0, excluded_answers: 0 }, { item: 1, excluded_answers: 2 }]);
      const nullable = await upgraded.query(`SELECT is_nullable FROM duckdb_columns() WHERE table_name = 'campaign_items' AND column_name = 'excluded_answers'`);
      assert.deepEqual(nullable.rows, [{ is_nullable: false }]);
    } finally {
      upgraded.closeSync();
    }
  });

  it('should add the campaign tables to a ledger from before them when the writer opens it', async () => {
    const path = join(dir, 'ledger.duckdb');
    const old = await Ledger.openWriter(path);
    await old.withConnection(async (c) => {
      await c.run('DROP TABLE campaign_gold');
      await c.run('DROP TABLE campaign_raters');
      await c.run('DROP TABLE campaign_items');
      await c.run('DROP TABLE campaigns');
      await c.run(`UPDATE ledger_meta SET value = '5' WHERE key = 'schema_version'`);
    });
    old.closeSync();
    const upgraded = await Ledger.openWriter(path);
    try {
      const tables = await upgraded.query(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'campaign%' ORDER BY table_name`);
      assert.deepEqual(tables.rows, [
        { table_name: 'campaign_gold' }, { table_name: 'campaign_items' }, { table_name: 'campaign_raters' }, { table_name: 'campaigns' },
      ]);
      assert.deepEqual((await upgraded.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).rows, [{ value: String(LEDGER_SCHEMA_VERSION) }]);
      assert.deepEqual(await upgraded.withConnection((c) => commitCampaign(c, request('running', [0]))), { itemsInLedger: 1 });
    } finally {
      upgraded.closeSync();
    }
  });
});
