/**
 * A ledger with compare lifecycles and hand-computable judgements, beside the thumbs lifecycles of
 * fixtures.ts.
 *
 * Stand-in until the ledger commits judgements (design-compare.md; branch p14-core): lifecycle and
 * candidate rows go through `Ledger.commit` like every lifecycle, with `votesAccepted` counting the
 * judgements so the ledger leaves them incomplete; `addCompareSchema` then adds the design's columns
 * and `judgements` table (its DDL verbatim), and `completeWithJudgements` writes the judgement rows
 * and does what the commit that completes a lifecycle will do (completion row, both derivations).
 * Once the ledger commits judgements, both become `ledger.commit({ …, judgements })`.
 *
 *   C1  compare, images, alpha (a) vs beta (b): left wins for alpha and beta, two right wins for beta
 *       (one changed from left), a tie, a both-bad, a retracted answer → a 1, b 3, tie 1, both bad 1;
 *       ratio 3/4, winner b; left wins 2 of 4 decided
 *   C2  compare, texts, beta vs gamma: a 3, b 1 → ratio 3/4, winner a; left wins 3 of 4
 *   C3  compare, texts, alpha vs gamma: two ties → ratio NULL, winner tie
 *   C4  thumbs, two text candidates, alpha vs beta, on Slack: one up vote, and A/B buttons (judgements)
 *       a 1, b 1 → ratio 1/2, winner tie; left wins 1 of 2
 *   C5  compare, texts, alpha vs beta: its second batch after CUTOFF_1 (pending in the first release)
 *   C6  compare, texts, gamma vs alpha, committed after CUTOFF_1: a 1
 *   C7  compare, images, alpha vs alpha (two seeds of one model): a 1 — no Bradley–Terry comparison
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { encodePng } from '../../connectors/inference/demo/png';
import { renderShapes } from '../../connectors/inference/demo/raster';
import { seededRng } from '../../connectors/inference/demo/rng';
import type { ArtifactStore } from '../../store/ArtifactStore';
import { deriveStatements } from '../../store/ledger-derived';
import type { CommittedVote } from '../../store/ledger-types';
import type { Ledger } from '../../store/Ledger';
import { JUDGEMENT_DERIVED_SCHEMA, deriveJudgementStatements } from '../../store/judgement-derived';
import type { Candidate, LifecyclePlan } from '../../workflows/types';
import { at, fillLedger } from './fixtures';

/** The `judgements` table exactly as design-compare.md states it. */
export const JUDGEMENTS_DDL = `CREATE TABLE IF NOT EXISTS judgements (
  run_id VARCHAR NOT NULL,
  lifecycle_id VARCHAR NOT NULL,
  idempotency_key VARCHAR NOT NULL,
  seq INTEGER NOT NULL,
  rater VARCHAR NOT NULL,
  rater_auth VARCHAR NOT NULL,
  channel VARCHAR NOT NULL,
  left_candidate VARCHAR NOT NULL,
  right_candidate VARCHAR NOT NULL,
  choice VARCHAR NOT NULL,
  winner_candidate VARCHAR,
  models_hidden BOOLEAN NOT NULL,
  comment VARCHAR,
  cast_at TIMESTAMPTZ NOT NULL,
  accepted_at TIMESTAMPTZ NOT NULL,
  committed_at TIMESTAMPTZ NOT NULL,
  standing BOOLEAN NOT NULL,
  PRIMARY KEY (run_id, idempotency_key))`;

/** The lifecycles columns the design adds (as an upgraded ledger has them: nullable, task defaulting to thumbs). */
const LIFECYCLE_COLUMNS = [['task', `VARCHAR DEFAULT 'thumbs'`], ['question', 'VARCHAR'], ['allow_both_bad', 'BOOLEAN'], ['reveal_models', 'BOOLEAN']] as const;

export type Choice = 'left' | 'right' | 'tie' | 'both_bad' | 'retract';

/** One judgement: who, which candidate they saw on the left, their answer, whether it stands. */
export interface JudgementSpec {
  rater: number;
  left: 'c1' | 'c2';
  choice: Choice;
  standing: boolean;
  raterAuth?: string;
  comment?: string;
}

export interface CompareSpec {
  lifecycleId: string;
  prompt: string;
  task: 'compare' | 'thumbs';
  question?: string;
  models: [string, string];
  kind: 'image' | 'text';
  channel?: string;
  modelsHidden?: boolean;
  judgements: JudgementSpec[];
  /** Thumbs votes beside the judgements: [candidate, value, rater]. */
  votes?: Array<[candidate: 'c1' | 'c2', value: 'up' | 'down', rater: number]>;
  /** Minutes after T0 of the lifecycle's commit (and of its judgements before `split`). */
  commitAt: number;
  /** Minutes after T0 of the batch that completes it (the judgements from `split` on); default commitAt. */
  completeAt?: number;
  split?: number;
}

export const rater = (n: number): string => `r_${n.toString(16).padStart(24, '0')}`;
const runId = (spec: CompareSpec) => `run-${spec.lifecycleId}`;

async function candidatesOf(artifacts: ArtifactStore, spec: CompareSpec): Promise<Candidate[]> {
  return Promise.all(spec.models.map(async (model, i): Promise<Candidate> => {
    const id = `c${i + 1}`;
    const text = `${spec.lifecycleId} ${id} from ${model}`;
    const artifact = spec.kind === 'text'
      ? await artifacts.put(Buffer.from(text), 'text/plain')
      : await artifacts.put(encodePng(renderShapes(seededRng(model, i, spec.prompt), 32)), 'image/png');
    return {
      id, label: String.fromCharCode(65 + i), model, kind: spec.kind, ...(spec.kind === 'text' ? { text } : {}), placeholder: true, artifact,
      provenance: { backend: 'demo', model, params: {}, seed: i, wallTimeMs: 1 },
    };
  }));
}

/** Commits the lifecycle and candidate rows (and thumbs votes) through the ledger, incomplete: judgements are still to come. */
export async function commitCompareLifecycle(ledger: Ledger, artifacts: ArtifactStore, spec: CompareSpec): Promise<void> {
  const channel = spec.channel ?? 'web';
  const plan: LifecyclePlan = {
    prompt: spec.prompt, models: [...spec.models], candidatesPerModel: 1, params: {}, channel: channel === 'web' ? { kind: 'web' } : { kind: 'slack', channel: 'C0FIXTURE' },
    channelLabel: channel === 'web' ? 'web' : 'slack:C0FIXTURE', quorum: { kind: 'perCandidate', votes: 5 }, deadline: { kind: 'duration', ms: 3_600_000 },
  };
  const votes: CommittedVote[] = (spec.votes ?? []).map(([candidateId, value, r], i) => ({
    idempotencyKey: `${spec.lifecycleId}:v${i + 1}`, candidateId, value, rater: rater(r), channel, castAt: at(i).toISOString(), seq: i + 1,
    acceptedAt: at(i).toISOString(), standing: true, raterAuth: channel === 'web' ? 'invite' : 'slack',
  }));
  await ledger.commit({
    lifecycle: {
      lifecycleId: spec.lifecycleId, runId: runId(spec), plan, startedAt: at(0).toISOString(), deadlineAt: at(60).toISOString(),
      closedAt: at(spec.commitAt - 1).toISOString(), closeReason: 'quorum', votesAccepted: votes.length + spec.judgements.length,
    },
    candidates: await candidatesOf(artifacts, spec),
    votes,
  }, at(spec.commitAt));
}

/** Adds the design's lifecycles columns, the `judgements` table and the derived judgement tables. */
export async function addCompareSchema(ledger: Ledger): Promise<void> {
  await ledger.withConnection(async (c) => {
    for (const [name, type] of LIFECYCLE_COLUMNS) await c.run(`ALTER TABLE lifecycles ADD COLUMN IF NOT EXISTS ${name} ${type}`);
    await c.run(JUDGEMENTS_DDL);
    for (const statement of JUDGEMENT_DERIVED_SCHEMA) await c.run(statement);
  });
}

/** Writes the judgement rows and completes the lifecycle as the commit that brings in its last event will. */
export async function completeWithJudgements(ledger: Ledger, spec: CompareSpec): Promise<void> {
  const run = runId(spec);
  const votes = spec.votes?.length ?? 0;
  const completedAt = at(spec.completeAt ?? spec.commitAt).toISOString();
  await ledger.withConnection(async (c) => {
    await c.run('BEGIN TRANSACTION');
    await c.run(`UPDATE lifecycles SET task = $2, question = $3, allow_both_bad = true, reveal_models = false WHERE run_id = $1`, [run, spec.task, spec.question ?? null]);
    for (const [i, j] of spec.judgements.entries()) {
      const right = j.left === 'c1' ? 'c2' : 'c1';
      const winner = j.choice === 'left' ? j.left : j.choice === 'right' ? right : null;
      const committed = i < (spec.split ?? spec.judgements.length) ? at(spec.commitAt).toISOString() : completedAt;
      const values: DuckDBValue[] = [
        run, spec.lifecycleId, `${spec.lifecycleId}:j${i + 1}`, votes + i + 1, rater(j.rater), j.raterAuth ?? (spec.channel === 'slack' ? 'slack' : 'invite'),
        spec.channel ?? 'web', j.left, right, j.choice, winner, spec.modelsHidden ?? true, j.comment ?? null,
        at(10 + i).toISOString(), at(10 + i).toISOString(), committed, j.standing,
      ];
      await c.run(`INSERT INTO judgements VALUES (${values.map((_, k) => `$${k + 1}${k >= 13 && k <= 15 ? '::TIMESTAMPTZ' : ''}`).join(', ')})`, values);
    }
    // Without judgements the ledger completed it already (its votes were all it accepted).
    const done = await c.runAndReadAll(`SELECT completed_at::VARCHAR FROM lifecycle_completions WHERE run_id = $1`, [run]);
    const scope = `(SELECT $2::VARCHAR AS run_id, $3::TIMESTAMPTZ AS completed_at)`;
    const statements = done.currentRowCount > 0 ? deriveJudgementStatements(scope) : [...deriveStatements(scope), ...deriveJudgementStatements(scope)];
    const completion = done.currentRowCount > 0 ? String(done.getRows()[0]?.[0]) : completedAt;
    if (done.currentRowCount === 0) await c.run(`INSERT INTO lifecycle_completions VALUES ($1, $2::TIMESTAMPTZ)`, [run, completedAt]);
    for (const statement of statements) await c.run(statement, ['-infinity', run, completion]);
    await c.run('COMMIT');
  });
}

const [ALPHA, BETA, GAMMA] = ['demo:alpha', 'demo:beta', 'demo:gamma'] as const;
const j = (r: number, left: 'c1' | 'c2', choice: Choice, standing = true, extra: Partial<JudgementSpec> = {}): JudgementSpec => ({ rater: r, left, choice, standing, ...extra });

/** C1–C7 (see above). */
export const COMPARE_SPECS: readonly CompareSpec[] = [
  {
    lifecycleId: 'C1', prompt: 'a lighthouse at dusk', task: 'compare', question: 'Which image fits the description better?', models: [ALPHA, BETA], kind: 'image', commitAt: 31,
    judgements: [
      j(1, 'c1', 'left', true, { comment: 'sharper' }), j(2, 'c2', 'left'), j(3, 'c1', 'right', true, { raterAuth: 'open' }), j(4, 'c2', 'tie'),
      j(5, 'c1', 'left', false), j(6, 'c1', 'both_bad'), j(5, 'c1', 'right'), j(7, 'c1', 'left', false), j(7, 'c1', 'retract', false),
    ],
  },
  {
    lifecycleId: 'C2', prompt: 'a haiku about rain', task: 'compare', question: 'Which haiku is better?', models: [BETA, GAMMA], kind: 'text', commitAt: 32,
    judgements: [j(1, 'c1', 'left'), j(2, 'c2', 'right'), j(3, 'c1', 'left'), j(4, 'c2', 'left')],
  },
  {
    lifecycleId: 'C3', prompt: 'two equal answers', task: 'compare', question: 'Which is better?', models: [ALPHA, GAMMA], kind: 'text', commitAt: 33,
    judgements: [j(1, 'c1', 'tie'), j(2, 'c2', 'tie')],
  },
  {
    lifecycleId: 'C4', prompt: 'slack buttons', task: 'thumbs', models: [ALPHA, BETA], kind: 'text', channel: 'slack', modelsHidden: false, commitAt: 34,
    votes: [['c1', 'up', 8]],
    judgements: [j(8, 'c1', 'left'), j(9, 'c1', 'right')],
  },
  {
    lifecycleId: 'C5', prompt: 'two batches', task: 'compare', question: 'Which is better?', models: [ALPHA, BETA], kind: 'text', commitAt: 35, completeAt: 75, split: 1,
    judgements: [j(1, 'c1', 'left'), j(2, 'c2', 'left')],
  },
  {
    lifecycleId: 'C7', prompt: 'two seeds', task: 'compare', question: 'Which is better?', models: [ALPHA, ALPHA], kind: 'image', commitAt: 36,
    judgements: [j(1, 'c2', 'right')],
  },
  {
    lifecycleId: 'C6', prompt: 'later', task: 'compare', question: 'Which is better?', models: [GAMMA, ALPHA], kind: 'text', commitAt: 100,
    judgements: [j(1, 'c2', 'right')],
  },
];

/** The thumbs lifecycles L1–L6 of fixtures.ts and the compare lifecycles C1–C7, in commit order. */
export async function fillCompareLedger(ledger: Ledger, artifacts: ArtifactStore, specs: readonly CompareSpec[] = COMPARE_SPECS): Promise<void> {
  const before = specs.filter((s) => s.commitAt < 40);
  for (const spec of before) await commitCompareLifecycle(ledger, artifacts, spec);
  await fillLedger(ledger, artifacts);
  for (const spec of specs.filter((s) => s.commitAt >= 40)) await commitCompareLifecycle(ledger, artifacts, spec);
  await addCompareSchema(ledger);
  // In completion order, as the ledger completes them: derived rows are appended, and releases copy them in table order.
  const completion = (s: CompareSpec) => s.completeAt ?? s.commitAt;
  for (const spec of [...specs].sort((x, y) => completion(x) - completion(y))) await completeWithJudgements(ledger, spec);
}
