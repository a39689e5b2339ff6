/**
 * A release's campaign files (issue 15) and what its report says of each campaign, from the ledger's
 * campaign tables (store/campaign-schema.ts):
 *
 *   campaigns.parquet  one row per campaign started by the cutoff: id, label, task, responses, items,
 *                      the items that ended by the cutoff (done, failed) and their answers, phase
 *                      (`running` unless it closed by the cutoff), started/closed.
 *   raters.parquet     one row per rater of those campaigns: pseudonym, campaign, answers, gold answered
 *                      and correct, gold accuracy, score, status and reason (`excluded` only if the
 *                      exclusion happened by the cutoff).
 *
 * A rater's counts are those of the campaign's latest commit (the ledger keeps one row per rater); what
 * depends on time is bounded by the cutoff, so the files change only as raters answer more.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CampaignScope } from './campaign-scope';
import { rows } from './query';
import { quotedString } from './sql';

/** How an item ended without data: the campaign's `failed` count (workflows/campaign-state.ts). */
const FAILED_ENDS = `('failed', 'invalid', 'unreported')`;

export function campaignsQuery(cutoff: string): string {
  const t = `${quotedString(cutoff)}::TIMESTAMPTZ`;
  return `
  SELECT c.campaign_id AS id, c.label, c.task, c.responses, c.channel, c.item_count AS items,
         coalesce(i.done, 0)::INTEGER AS done, coalesce(i.failed, 0)::INTEGER AS failed, coalesce(i.answers, 0)::INTEGER AS answers,
         coalesce(g.gold, 0)::INTEGER AS gold_items, coalesce(r.excluded, 0)::INTEGER AS excluded_raters,
         CASE WHEN c.closed_at <= ${t} THEN c.phase ELSE 'running' END AS phase,
         c.started_at, c.deadline_at, CASE WHEN c.closed_at <= ${t} THEN c.closed_at END AS closed_at, c.run_id
    FROM campaigns c
    LEFT JOIN (SELECT run_id, count(*) FILTER (WHERE end_reason NOT IN ${FAILED_ENDS}) AS done, count(*) FILTER (WHERE end_reason IN ${FAILED_ENDS}) AS failed,
                      sum(answers) AS answers
                 FROM campaign_items WHERE committed_at <= ${t} GROUP BY run_id) i ON i.run_id = c.run_id
    LEFT JOIN (SELECT run_id, count(*) AS gold FROM campaign_gold GROUP BY run_id) g ON g.run_id = c.run_id
    LEFT JOIN (SELECT run_id, count(*) AS excluded FROM campaign_raters
                WHERE status = 'excluded' AND coalesce(excluded_at, committed_at) <= ${t} GROUP BY run_id) r ON r.run_id = c.run_id
   WHERE c.started_at <= ${t}
   ORDER BY c.started_at, c.campaign_id, c.run_id`;
}

export function ratersQuery(cutoff: string): string {
  const t = `${quotedString(cutoff)}::TIMESTAMPTZ`;
  const excluded = `r.status = 'excluded' AND coalesce(r.excluded_at, r.committed_at) <= ${t}`;
  return `
  SELECT r.rater AS pseudonym, r.campaign_id AS campaign, r.answers, r.gold_answered, r.gold_correct,
         CASE WHEN r.gold_answered > 0 THEN r.gold_correct / r.gold_answered END AS gold_accuracy, r.score,
         CASE WHEN ${excluded} THEN 'excluded' ELSE 'active' END AS status,
         CASE WHEN ${excluded} THEN r.reason END AS reason, CASE WHEN ${excluded} THEN r.excluded_at END AS excluded_at, r.run_id AS campaign_run_id
    FROM campaign_raters r JOIN campaigns c ON c.run_id = r.run_id
   WHERE c.started_at <= ${t}
   ORDER BY c.started_at, c.campaign_id, r.rater`;
}

/** What the manifest says of campaigns. */
export interface CampaignReleaseStats {
  campaigns: number;
  raters: number;
  excludedRaters: number;
  /** Gold lifecycles committed by the cutoff, and their standing judgements complete by it: in no derived file. */
  goldLifecycles: number;
  goldJudgementsLeftOut: number;
  /** Standing judgements of excluded raters: flagged in battles.parquet, counted nowhere else. */
  excludedJudgements: number;
}

export interface CampaignReport {
  id: string;
  label: string;
  task: string;
  phase: string;
  items: number;
  done: number;
  failed: number;
  answers: number;
  goldItems: number;
  raters: number;
  excludedRaters: number;
  /** Answers over time: per UTC hour when the campaign's answers span two days or less, else per day. */
  progressUnit: 'hour' | 'day';
  progress: Array<{ at: string; answers: number }>;
  /** Raters by how many data answers they gave, in bins. */
  answersPerRater: Array<{ bin: string; raters: number }>;
  /** Raters with gold answers, by gold accuracy in tenths. */
  goldAccuracy: Array<{ bin: string; raters: number }>;
  /** Items ended by the cutoff, by why. */
  endReasons: Array<{ reason: string; items: number }>;
}

/** Answers-per-rater bins: [low, high] inclusive, high null = and more. */
const ANSWER_BINS: ReadonlyArray<readonly [number, number | null]> = [[0, 0], [1, 1], [2, 5], [6, 10], [11, 25], [26, 50], [51, 100], [101, null]];

function answerBin(n: number): string {
  const [low, high] = ANSWER_BINS.find(([lo, hi]) => n >= lo && (hi === null || n <= hi)) ?? ANSWER_BINS[ANSWER_BINS.length - 1]!;
  return high === null ? `${low}+` : low === high ? String(low) : `${low}–${high}`;
}

/** `files`: the paths of the campaigns and raters files just written (the report reads them back). */
export async function campaignReports(
  c: DuckDBConnection, files: { campaigns: string; raters: string }, inRelease: string, scope: CampaignScope, cutoff: string,
): Promise<{ reports: CampaignReport[]; stats: CampaignReleaseStats }> {
  const campaigns = await rows<{
    id: string; label: string; task: string; phase: string; items: number; done: number; failed: number; answers: number; gold_items: number;
    excluded_raters: number; run_id: string;
  }>(c, `SELECT * FROM read_parquet(${quotedString(files.campaigns)})`);
  const raterRows = await rows<{ campaign_run_id: string; answers: number; gold_answered: number; gold_accuracy: number | null; status: string }>(
    c, `SELECT campaign_run_id, answers, gold_answered, gold_accuracy, status FROM read_parquet(${quotedString(files.raters)})`,
  );
  const stats: CampaignReleaseStats = {
    campaigns: campaigns.length, raters: raterRows.length, excludedRaters: raterRows.filter((r) => r.status === 'excluded').length,
    goldLifecycles: scope.goldLifecycles, goldJudgementsLeftOut: scope.goldJudgements, excludedJudgements: scope.excludedJudgements,
  };
  if (campaigns.length === 0) return { reports: [], stats };
  // Standing answers (judgements, votes) of each campaign's released data lifecycles, by cast time.
  const answers = await rows<{ campaign_run: string; hourly: boolean; bucket: string; answers: number }>(
    c,
    `WITH answered AS (
       SELECT run_id, cast_at FROM judgements WHERE standing AND choice <> 'retract' AND ${inRelease}
       UNION ALL SELECT run_id, cast_at FROM votes WHERE standing AND kind = 'vote' AND ${inRelease}),
     mine AS (
       SELECT x.campaign_run, a.cast_at FROM answered a JOIN rel_campaign_runs x ON x.run_id = a.run_id
        WHERE a.run_id NOT IN (SELECT run_id FROM rel_gold_runs)),
     span AS (SELECT campaign_run, max(cast_at) - min(cast_at) <= INTERVAL 2 DAY AS hourly FROM mine GROUP BY ALL)
     SELECT m.campaign_run, s.hourly, strftime(date_trunc(CASE WHEN s.hourly THEN 'hour' ELSE 'day' END, m.cast_at AT TIME ZONE 'UTC'), '%Y-%m-%dT%H:00Z') AS bucket,
            count(*)::INTEGER AS answers
       FROM mine m JOIN span s USING (campaign_run) GROUP BY ALL ORDER BY m.campaign_run, bucket`,
  );
  const ends = await rows<{ run_id: string; end_reason: string; items: number }>(
    c, `SELECT run_id, end_reason, count(*)::INTEGER AS items FROM campaign_items WHERE committed_at <= $1::TIMESTAMPTZ GROUP BY ALL ORDER BY run_id, items DESC, end_reason`,
    [cutoff],
  );
  const reports = campaigns.map((k): CampaignReport => {
    const mine = raterRows.filter((r) => r.campaign_run_id === k.run_id);
    const progress = answers.filter((a) => a.campaign_run === k.run_id).map((a) => ({ at: a.bucket, answers: a.answers }));
    const hourly = answers.find((a) => a.campaign_run === k.run_id)?.hourly === false ? 'day' : 'hour';
    const bins = new Map(ANSWER_BINS.map(([low, high]) => [high === null ? `${low}+` : low === high ? String(low) : `${low}–${high}`, 0]));
    for (const r of mine) bins.set(answerBin(r.answers), (bins.get(answerBin(r.answers)) ?? 0) + 1);
    const tenths = Array.from({ length: 10 }, (_, i) => ({ bin: `${i * 10}–${i === 9 ? 100 : i * 10 + 9}%`, raters: 0 }));
    for (const r of mine) if (r.gold_answered > 0 && r.gold_accuracy !== null) tenths[Math.min(9, Math.floor(r.gold_accuracy * 10))]!.raters += 1;
    return {
      id: k.id, label: k.label, task: k.task, phase: k.phase, items: k.items, done: k.done, failed: k.failed, answers: k.answers, goldItems: k.gold_items,
      raters: mine.length, excludedRaters: k.excluded_raters, progressUnit: hourly, progress,
      answersPerRater: [...bins.entries()].map(([bin, raters]) => ({ bin, raters })),
      goldAccuracy: mine.some((r) => r.gold_answered > 0) ? tenths : [],
      endReasons: ends.filter((e) => e.run_id === k.run_id).map((e) => ({ reason: e.end_reason, items: e.items })),
    };
  });
  return { reports, stats };
}
