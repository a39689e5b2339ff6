/**
 * releases/campaign-scope.ts's CAMPAIGN_LIFECYCLES over bare tables: which campaign run a lifecycle
 * belongs to, by the campaign's workflow identity (child ids, listed gold, the run its id was latest),
 * never by label nor by a LIKE pattern.
 */
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CAMPAIGN_LIFECYCLES } from '../../releases/campaign-scope';
import { rows } from '../../releases/query';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

describe('releases/campaign-scope: CAMPAIGN_LIFECYCLES', () => {
  let instance: DuckDBInstance;
  let c: DuckDBConnection;

  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    c = await instance.connect();
    await c.run('CREATE TABLE campaigns (run_id VARCHAR, campaign_id VARCHAR, started_at TIMESTAMPTZ)');
    await c.run('CREATE TABLE lifecycles (run_id VARCHAR, lifecycle_id VARCHAR, started_at TIMESTAMPTZ)');
    await c.run('CREATE TABLE campaign_gold (run_id VARCHAR, lifecycle_id VARCHAR)');
    const campaigns: Array<[string, string, number]> = [
      ['k-a', 'a', 0], ['k-nested', 'a-item-1', 1], ['k-pct', 'b%', 0], ['k-r1', 'r', 0], ['k-r2', 'r', 100],
    ];
    for (const [run, id, t] of campaigns) await c.run('INSERT INTO campaigns VALUES ($1, $2, $3::TIMESTAMPTZ)', [run, id, at(t)]);
    const lifecycles: Array<[string, string, number]> = [
      ['l-a1', 'a-item-1', 2], ['l-a1r2', 'a-item-1-r2', 3], ['l-nested0', 'a-item-1-item-0', 3], ['l-a-gold', 'a-gold-0', 2],
      ['l-nested-gold', 'a-item-1-item-5', 4],
      ['l-bad1', 'a-item-x', 2], ['l-bad2', 'a-item-', 2], ['l-bad3', 'a-item-1-r', 2], ['l-bad4', 'a-item-1-rx', 2], ['l-bad5', 'xa-item-1', 2],
      ['l-pct-own', 'b%-item-0', 2], ['l-pct-like', 'bzz-item-0', 2],
      ['l-r-before', 'r-item-0', -1], ['l-r-first', 'r-item-0', 5], ['l-r-second', 'r-item-0', 105], ['l-r-second-reask', 'r-item-0-r1', 100],
    ];
    for (const [run, id, t] of lifecycles) await c.run('INSERT INTO lifecycles VALUES ($1, $2, $3::TIMESTAMPTZ)', [run, id, at(t)]);
    const gold: Array<[string, string]> = [['k-a', 'a-gold-0'], ['k-nested', 'a-item-1-item-5']];
    for (const [run, id] of gold) await c.run('INSERT INTO campaign_gold VALUES ($1, $2)', [run, id]);
  });

  after(() => {
    c.closeSync();
    instance.closeSync();
  });

  it('should give each lifecycle to the one campaign run whose child or listed gold it is', async () => {
    const members = await rows<{ campaign_run: string; run_id: string; gold: boolean }>(c, `SELECT * FROM (${CAMPAIGN_LIFECYCLES}) ORDER BY campaign_run, run_id`);
    assert.deepEqual(members.map((m) => [m.campaign_run, m.run_id, m.gold]), [
      ['k-a', 'l-a-gold', true],
      ['k-a', 'l-a1', false],
      ['k-a', 'l-a1r2', false],
      // A child-shaped id the run listed as gold: once, as gold.
      ['k-nested', 'l-nested-gold', true],
      ['k-nested', 'l-nested0', false],
      ['k-pct', 'l-pct-own', false],
      // A reused campaign id: each lifecycle to the run that was the id's latest when it started.
      ['k-r1', 'l-r-first', false],
      ['k-r2', 'l-r-second', false],
      ['k-r2', 'l-r-second-reask', false],
    ]);
  });
});
