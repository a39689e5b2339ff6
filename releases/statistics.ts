/**
 * A release's vote and artifact statistics (votes per day, top raters, referenced artifacts the store
 * lacks). They read only vote and candidate rows committed ≤ cutoff, which never change once written,
 * so they run on a second connection, in a transaction of their own, while the first writes files.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join, sep } from 'node:path';
import { withTransaction } from '../store/transaction';
import { rows } from './query';
import type { ReportData } from './report';
import { quotedString } from './sql';

export interface VoteStatistics {
  daily: ReportData['daily'];
  topRaters: ReportData['topRaters'];
  raters: number;
  artifactsReferenced: number;
  artifactsMissing: number;
}

export async function voteStatistics(connection: DuckDBConnection, inRelease: string, artifactDir: string | undefined): Promise<VoteStatistics> {
  return withTransaction(connection, async (c) => {
    // UTC days from epoch milliseconds: independent of the session's TimeZone setting.
    const daily = await rows<{ day: string; votes: number; retractions: number }>(
      c,
      `SELECT strftime(DATE '1970-01-01' + d::INTEGER, '%Y-%m-%d') AS day, votes, retractions
         FROM (SELECT epoch_ms(cast_at) // 86400000 AS d,
                      count(*) FILTER (WHERE kind = 'vote')::INTEGER AS votes, count(*) FILTER (WHERE kind = 'retract')::INTEGER AS retractions
                 FROM votes WHERE ${inRelease} GROUP BY d)
        ORDER BY day`,
    );
    await c.run(`CREATE OR REPLACE TEMP TABLE rel_raters AS SELECT rater, count(*)::INTEGER AS votes FROM votes WHERE standing AND kind = 'vote' AND ${inRelease} GROUP BY rater`);
    const topRaters = await rows<{ rater: string; votes: number }>(c, `SELECT rater, votes FROM rel_raters ORDER BY votes DESC, rater LIMIT 25`);
    const [raters] = await rows<{ n: number }>(c, `SELECT count(*)::INTEGER AS n FROM rel_raters`);
    // Referenced artifacts the store lacks, listed by DuckDB's glob: no per-file stat, no paths through JS.
    const [artifacts] = await rows<{ referenced: number; missing: number }>(
      c,
      `SELECT count(*)::INTEGER AS referenced,
              ${artifactDir ? `count(*) FILTER (WHERE g.file IS NULL)::INTEGER` : '0'} AS missing
         FROM (SELECT DISTINCT ${artifactDir ? `${quotedString(artifactDir + sep)} || ` : ''}path AS file FROM candidates WHERE ${inRelease}) r
         ${artifactDir ? `LEFT JOIN glob(${quotedString(join(artifactDir, 'sha256', '*', '*'))}) g ON g.file = r.file` : ''}`,
    );
    return { daily, topRaters, raters: raters?.n ?? 0, artifactsReferenced: artifacts?.referenced ?? 0, artifactsMissing: artifacts?.missing ?? 0 };
  });
}
