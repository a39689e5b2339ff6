/**
 * A small ledger with hand-computable outcomes, committed through `Ledger.commit` like real lifecycles,
 * and an independent parquet reader (hyparquet; zstd pages decoded by the reference `zstd` CLI).
 *
 *   L1  A/B, alpha c1 (2 up, 1 down → +1), beta c2 (0 up, 2 down → −2; a third rater voted up then retracted),
 *       gamma c3 (no votes: not rated)                           → pair c1>c2 margin 3; alpha beats beta
 *   L2  alpha only: c1 +1, c2 +1, c3 −1 (r4 changed up → down) → pairs c1>c3, c2>c3 margin 2; tie c1=c2
 *   L3  A/B, alpha c1 +1, beta c2 +1                           → tie (no pair); alpha ties beta
 *   L4  A/B, alpha c1 −1, beta c2 +1                           → pair c2>c1 margin 2; beta beats alpha
 *   L5  committed after the first cutoff (in the second release only)
 *   L6  two commit batches straddling the first cutoff (pending in the first release)
 *
 * Provenance: L1 was started with the Slack command by rater 1, L2 on the prompt box by rater 2,
 * L3 from the CLI; the others do not say (the Temporal UI).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parquetReadObjects } from 'hyparquet';
import type { CommittedVote, CommitRequest } from '../../store/ledger-types';
import type { ArtifactStore } from '../../store/ArtifactStore';
import type { Ledger } from '../../store/Ledger';
import type { Candidate, LifecyclePlan } from '../../workflows/types';

export const T0 = Date.parse('2026-11-20T10:00:00.000Z');
export const at = (minutes: number) => new Date(T0 + minutes * 60_000);
export const CUTOFF_1 = at(60).toISOString();
export const CUTOFF_2 = at(180).toISOString();

export const rater = (n: number) => `r_${n.toString(16).padStart(24, '0')}`;

/** Who started each lifecycle, where it says (see above). */
export const PROVENANCE: Record<string, Pick<LifecyclePlan, 'startedBy' | 'startedFrom'>> = {
  L1: { startedBy: rater(1), startedFrom: 'slack:/prefline' },
  L2: { startedBy: rater(2), startedFrom: 'web:prompt-box' },
  L3: { startedFrom: 'cli' },
};

function plan(lifecycleId: string, prompt: string, models: string[]): LifecyclePlan {
  return {
    prompt, models, candidatesPerModel: 1, params: {}, channel: { kind: 'web' }, channelLabel: 'web',
    quorum: { kind: 'perCandidate', votes: 2 }, deadline: { kind: 'duration', ms: 3_600_000 },
    ...PROVENANCE[lifecycleId],
  };
}

type VoteSpec = [candidate: string, value: 'up' | 'down' | 'retract', rater: number, standing: boolean];

async function request(
  artifacts: ArtifactStore,
  lifecycleId: string,
  prompt: string,
  models: string[],
  votes: VoteSpec[],
): Promise<CommitRequest> {
  const candidates: Candidate[] = [];
  for (const [i, model] of models.entries()) {
    const text = `${lifecycleId} candidate c${i + 1} from ${model}`;
    candidates.push({
      id: `c${i + 1}`, label: String.fromCharCode(65 + i), model, kind: 'text', text, placeholder: true,
      artifact: await artifacts.put(Buffer.from(text), 'text/plain'),
      provenance: { backend: 'demo', model, params: {}, seed: i, wallTimeMs: 1 },
    });
  }
  const committed: CommittedVote[] = votes.map(([candidateId, value, r, standing], i) => ({
    idempotencyKey: `${lifecycleId}:k${String(i + 1).padStart(2, '0')}`, candidateId, value, rater: rater(r), channel: 'web',
    castAt: at(i).toISOString(), seq: i + 1, acceptedAt: at(i).toISOString(), standing,
    // Rater 2 came by invite; the others' votes carry no raterAuth (as before it existed): typed names.
    ...(r === INVITED_RATER ? { raterAuth: 'invite' as const } : {}),
    ...(i === 0 ? { comment: `first vote on ${lifecycleId}` } : {}),
  }));
  return {
    lifecycle: {
      lifecycleId, runId: `run-${lifecycleId}`, plan: plan(lifecycleId, prompt, models), startedAt: at(0).toISOString(), deadlineAt: at(60).toISOString(),
      closedAt: at(30).toISOString(), closeReason: 'quorum', votesAccepted: committed.length,
    },
    candidates,
    votes: committed,
  };
}

/** The fixture's one rater who signed in by invite link (rater_verified); the others typed names. */
export const INVITED_RATER = 2;

/** Commits L1–L6 (see above) with commit times around CUTOFF_1 and CUTOFF_2. */
export async function fillLedger(ledger: Ledger, artifacts: ArtifactStore): Promise<void> {
  const [alpha, beta, gamma] = ['demo:alpha', 'demo:beta', 'demo:gamma'];
  const l1 = await request(artifacts, 'L1', 'a fox in the snow', [alpha as string, beta as string, gamma as string], [
    ['c1', 'up', 1, true], ['c1', 'up', 2, true], ['c1', 'down', 3, true], ['c2', 'down', 1, true], ['c2', 'down', 2, true],
    ['c2', 'up', 3, false], ['c2', 'retract', 3, false],
  ]);
  const l2 = await request(artifacts, 'L2', 'three takes', [alpha as string, alpha as string, alpha as string], [
    ['c1', 'up', 1, true], ['c2', 'up', 2, true], ['c3', 'up', 4, false], ['c3', 'down', 4, true],
  ]);
  const l3 = await request(artifacts, 'L3', 'a tie', [alpha as string, beta as string], [['c1', 'up', 1, true], ['c2', 'up', 2, true]]);
  const l4 = await request(artifacts, 'L4', 'beta wins', [alpha as string, beta as string], [['c1', 'down', 1, true], ['c2', 'up', 1, true]]);
  const l5 = await request(artifacts, 'L5', 'later', [alpha as string, beta as string], [['c1', 'up', 5, true], ['c2', 'down', 5, true]]);
  const l6 = await request(artifacts, 'L6', 'two batches', [alpha as string, beta as string], [['c1', 'up', 6, true], ['c2', 'up', 6, true], ['c2', 'up', 7, true]]);
  for (const r of [l1, l2, l3, l4]) await ledger.commit(r, at(40));
  await ledger.commit({ ...l6, votes: l6.votes.slice(0, 2) }, at(50));
  await ledger.commit({ ...l6, candidates: [], votes: l6.votes.slice(2) }, at(70));
  await ledger.commit(l5, at(90));
}

/** Decodes a zstd frame with the reference CLI: independent of DuckDB's codec. */
function zstdDecompress(input: Uint8Array, outputLength: number): Uint8Array {
  const out = execFileSync('zstd', ['-d', '-c', '-q'], { input });
  if (out.length !== outputLength) throw new Error(`zstd: ${out.length} bytes, expected ${outputLength}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Reads a parquet file with hyparquet (pure JavaScript), as plain objects. */
export async function readParquetIndependently(file: string): Promise<Array<Record<string, unknown>>> {
  const bytes = readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return parquetReadObjects({ file: buffer, compressors: { ZSTD: zstdDecompress } });
}
