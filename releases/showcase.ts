/**
 * The matchups the report pictures as the seed's analysis does (two candidates side by side over a
 * vote bar): the most contested and the most decisive, three each. Images are inlined as data: URIs
 * so the report stays one self-contained file; only raster images up to SHOWCASE_IMAGE_MAX_BYTES, read
 * through the artifact store (which checks their sha256), so the report stays small and its bytes
 * depend on the release's rows alone (artifacts are content-addressed).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ArtifactStore } from '../store/ArtifactStore';
import { rows } from './query';

export const SHOWCASE_PER_KIND = 3;
/** Larger images are shown as their path only: six matchups stay under ~3 MB of report. */
export const SHOWCASE_IMAGE_MAX_BYTES = 256 * 1024;
/** Raster types a browser shows from a data: URI without running anything (no SVG). */
const INLINE_MIMES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
/** Texts longer than this are cut in the report (the release has them whole). */
const SHOWCASE_TEXT_CHARS = 600;

export interface ShowcaseSide {
  model: string;
  candidateId: string;
  /** Export-relative, `artifacts/sha256/…`. */
  path: string;
  kind: string;
  text: string | null;
  /** A data: URI for an inlined image; null for texts and images not inlined. */
  image: string | null;
  /** Why an image is not inlined. */
  note: string | null;
}

export interface ShowcaseMatchup {
  why: 'contested' | 'decisive';
  lifecycleId: string;
  prompt: string;
  question: string | null;
  votesA: number;
  votesB: number;
  ties: number;
  bothBad: number;
  total: number;
  ratio: number;
  winner: string;
  a: ShowcaseSide;
  b: ShowcaseSide;
}

interface MatchupRow {
  lifecycle_id: string;
  run_id: string;
  prompt: string;
  question: string | null;
  votes_a: number;
  votes_b: number;
  ties: number;
  both_bad: number;
  total: number;
  ratio: number;
  winner: string;
  model_a: string;
  model_b: string;
  candidate_a: string;
  candidate_b: string;
}

interface CandidateRow {
  run_id: string;
  candidate_id: string;
  kind: string;
  mime: string;
  artifact_sha256: string;
  size_bytes: number;
  path: string;
  text: string | null;
}

/** Picks the matchups (with at least one decided judgement) among lifecycles complete by the cutoff and loads their candidates. */
export async function showcaseMatchups(
  c: DuckDBConnection, completeByCutoff: string, artifactDir: string | undefined, matchups = 'judgement_matchups',
): Promise<ShowcaseMatchup[]> {
  const pick = (order: string, exclude: string[]) => rows<MatchupRow>(
    c,
    `SELECT lifecycle_id, run_id, prompt, question, votes_a, votes_b, ties, both_bad, total, ratio, winner, model_a, model_b, candidate_a, candidate_b
       FROM ${matchups}
      WHERE ${completeByCutoff} AND votes_a + votes_b > 0 ${exclude.length ? `AND run_id NOT IN (${exclude.map((_, i) => `$${i + 1}`).join(', ')})` : ''}
      ORDER BY ${order}, votes_a + votes_b DESC, completed_at, run_id LIMIT ${SHOWCASE_PER_KIND}`,
    exclude,
  );
  const contested = await pick('ratio ASC', []);
  const decisive = await pick('ratio DESC', contested.map((m) => m.run_id));
  const chosen = [...contested.map((m) => ({ m, why: 'contested' as const })), ...decisive.map((m) => ({ m, why: 'decisive' as const }))];
  if (chosen.length === 0) return [];
  const runs = chosen.map(({ m }) => m.run_id);
  const candidates = new Map((await rows<CandidateRow>(
    c,
    `SELECT run_id, candidate_id, kind, mime, artifact_sha256, size_bytes::DOUBLE AS size_bytes, path, text
       FROM candidates WHERE run_id IN (${runs.map((_, i) => `$${i + 1}`).join(', ')})`,
    runs,
  )).map((r) => [`${r.run_id}\u0000${r.candidate_id}`, r]));
  const store = artifactDir ? await ArtifactStore.open(artifactDir) : undefined;
  const side = async (runId: string, candidateId: string, model: string): Promise<ShowcaseSide> => {
    const row = candidates.get(`${runId}\u0000${candidateId}`);
    if (!row) throw new Error(`internal: matchup ${runId} names candidate ${candidateId}, which the ledger lacks`);
    const base = { model, candidateId, path: `artifacts/${row.path}`, kind: row.kind };
    if (row.kind !== 'image') {
      const text = row.text ?? '';
      return { ...base, text: text.length > SHOWCASE_TEXT_CHARS ? `${text.slice(0, SHOWCASE_TEXT_CHARS - 1)}…` : text, image: null, note: null };
    }
    const mime = (row.mime.split(';', 1)[0] ?? '').trim().toLowerCase();
    const refuse = (note: string): ShowcaseSide => ({ ...base, text: null, image: null, note });
    if (!INLINE_MIMES.has(mime)) return refuse(`${mime} is not inlined`);
    if (row.size_bytes > SHOWCASE_IMAGE_MAX_BYTES) return refuse(`${Math.round(row.size_bytes / 1024)} KiB: too large to inline`);
    if (!store) return refuse('no artifact store at publish time');
    const read = await store.read(row.artifact_sha256).catch((err: unknown) => err as Error);
    if (read instanceof Error) return refuse(`not available: ${read.message}`);
    return { ...base, text: null, image: `data:${mime};base64,${read.bytes.toString('base64')}`, note: null };
  };
  const out: ShowcaseMatchup[] = [];
  for (const { m, why } of chosen) {
    out.push({
      why, lifecycleId: m.lifecycle_id, prompt: m.prompt, question: m.question, votesA: m.votes_a, votesB: m.votes_b, ties: m.ties, bothBad: m.both_bad,
      total: m.total, ratio: m.ratio, winner: m.winner,
      a: await side(m.run_id, m.candidate_a, m.model_a), b: await side(m.run_id, m.candidate_b, m.model_b),
    });
  }
  return out;
}
