/**
 * A ledger with compare lifecycles and hand-computable judgements, beside the thumbs lifecycles of
 * fixtures.ts.
 *
 * Every lifecycle is committed through `Ledger.commit` with its judgements, as the ledger worker
 * commits it, and the commit that completes it derives its battles and matchups
 * (store/judgement-derived.ts). `JUDGEMENTS_DDL` is the design's table (design-compare.md), which
 * the tests hold the ledger's against.
 *
 *   C1  compare, images, alpha (a) vs beta (b): left wins for alpha and beta, two right wins for beta
 *       (one changed from left), a tie, a both-bad, a retracted answer → a 1, b 3, tie 1, both bad 1;
 *       ratio 3/4, winner b; left wins 2 of 4 decided
 *   C2  compare, texts, beta vs gamma: a 3, b 1 → ratio 3/4, winner a; left wins 3 of 4
 *   C3  compare, texts, alpha vs gamma: two ties → ratio NULL, winner tie
 *   C4  thumbs, two text candidates, alpha vs beta, on Slack: one up vote, and A/B buttons (judgements)
 *       a 1, b 1 → ratio 1/2, winner tie; left wins 1 of 2
 *   C5  compare, texts, alpha vs beta: its second batch (+95 min) after CUTOFF_1 (pending in the first release)
 *   C6  compare, texts, gamma vs alpha, committed after CUTOFF_1: a 1
 *   C7  compare, images, alpha vs alpha (two seeds of one model): a 1 — no Bradley–Terry comparison
 */
import { encodePng } from '../../connectors/inference/demo/png';
import { renderShapes } from '../../connectors/inference/demo/raster';
import { seededRng } from '../../connectors/inference/demo/rng';
import type { ArtifactStore } from '../../store/ArtifactStore';
import type { CommittedJudgement, CommittedVote } from '../../store/ledger-types';
import type { Ledger } from '../../store/Ledger';
import type { Candidate, LifecyclePlan, RaterAuth } from '../../workflows/types';
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

export type Choice = 'left' | 'right' | 'tie' | 'both_bad' | 'retract';

/** One judgement: who, which candidate they saw on the left, their answer, whether it stands. */
export interface JudgementSpec {
  rater: number;
  left: 'c1' | 'c2';
  choice: Choice;
  standing: boolean;
  raterAuth?: RaterAuth;
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
  /** The campaign label the lifecycle carries (a campaign's item or gold lifecycle). */
  campaign?: string;
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

/**
 * Commits the lifecycle, its candidates, thumbs votes and judgements through the ledger: in one batch
 * at `commitAt`, or with `split` the judgements from `split` on in a second batch at `completeAt`
 * (the first an increment, committed while voting).
 */
export async function commitCompareLifecycle(ledger: Ledger, artifacts: ArtifactStore, spec: CompareSpec, batch: 'all' | 'first' | 'rest' = 'all'): Promise<void> {
  const channel = spec.channel ?? 'web';
  const plan: LifecyclePlan = {
    prompt: spec.prompt, models: [...spec.models], candidatesPerModel: 1, params: {}, channel: channel === 'web' ? { kind: 'web' } : { kind: 'slack', channel: 'C0FIXTURE' },
    channelLabel: channel === 'web' ? 'web' : 'slack:C0FIXTURE', deadline: { kind: 'duration', ms: 3_600_000 },
    ...(spec.campaign !== undefined ? { campaign: spec.campaign } : {}),
    ...(spec.task === 'compare'
      ? { task: 'compare', question: spec.question ?? 'Which is better?', quorum: { kind: 'responses', responses: spec.judgements.length } }
      : { quorum: { kind: 'perCandidate', votes: 5 } }),
  };
  const votes: CommittedVote[] = (spec.votes ?? []).map(([candidateId, value, r], i) => ({
    idempotencyKey: `${spec.lifecycleId}:v${i + 1}`, candidateId, value, rater: rater(r), channel, castAt: at(i).toISOString(), seq: i + 1,
    acceptedAt: at(i).toISOString(), standing: true, raterAuth: channel === 'web' ? 'invite' : 'slack',
  }));
  const judgements: CommittedJudgement[] = spec.judgements.map((j, i) => ({
    idempotencyKey: `${spec.lifecycleId}:j${i + 1}`, rater: rater(j.rater), raterAuth: j.raterAuth ?? (channel === 'slack' ? 'slack' : 'invite'), channel,
    castAt: at(10 + i).toISOString(), ...(j.comment ? { comment: j.comment } : {}), left: j.left, right: j.left === 'c1' ? 'c2' : 'c1', choice: j.choice,
    seq: votes.length + i + 1, acceptedAt: at(10 + i).toISOString(), modelsHidden: spec.modelsHidden ?? true, standing: j.standing,
  }));
  const split = spec.split ?? judgements.length;
  const base = { lifecycleId: spec.lifecycleId, runId: runId(spec), plan, startedAt: at(0).toISOString(), deadlineAt: at(60).toISOString() };
  const closed = { closedAt: at((spec.completeAt ?? spec.commitAt) - 1).toISOString(), closeReason: 'quorum' as const, votesAccepted: votes.length + judgements.length };
  if (batch === 'rest') {
    await ledger.commit({ lifecycle: { ...base, ...closed }, candidates: [], votes: [], judgements: judgements.slice(split) }, at(spec.completeAt ?? spec.commitAt));
    return;
  }
  const whole = batch === 'all' || split === judgements.length;
  await ledger.commit({
    lifecycle: whole ? { ...base, ...closed } : { ...base, votesAccepted: votes.length + split },
    candidates: await candidatesOf(artifacts, spec),
    votes,
    judgements: whole ? judgements : judgements.slice(0, split),
  }, at(spec.commitAt));
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
    lifecycleId: 'C5', prompt: 'two batches', task: 'compare', question: 'Which is better?', models: [ALPHA, BETA], kind: 'text', commitAt: 35, completeAt: 95, split: 1,
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

/**
 * The thumbs lifecycles L1–L6 of fixtures.ts (committed at +40…+90 min) and the compare lifecycles,
 * every batch in commit time order (the ledger's commit times only grow).
 */
export async function fillCompareLedger(ledger: Ledger, artifacts: ArtifactStore, specs: readonly CompareSpec[] = COMPARE_SPECS): Promise<void> {
  type Batch = { spec: CompareSpec; at: number; batch: 'all' | 'first' | 'rest' };
  const batches = specs.flatMap((spec): Batch[] => spec.split !== undefined && spec.split < spec.judgements.length
    ? [{ spec, at: spec.commitAt, batch: 'first' }, { spec, at: spec.completeAt ?? spec.commitAt, batch: 'rest' }]
    : [{ spec, at: spec.commitAt, batch: 'all' }]).sort((x, y) => x.at - y.at);
  for (const b of batches.filter((x) => x.at < 40)) await commitCompareLifecycle(ledger, artifacts, b.spec, b.batch);
  await fillLedger(ledger, artifacts);
  for (const b of batches.filter((x) => x.at >= 40)) await commitCompareLifecycle(ledger, artifacts, b.spec, b.batch);
}
