/**
 * What the Temporal UI shows of a lifecycle besides its id. Its starter sets the summary (the one line
 * of the workflow list) and the details (its page), from `startMetadata` (cli/lifecycle-commands.ts);
 * the workflow itself keeps its page's current details up to date with `currentDetails`, the only
 * text a lifecycle started from the UI's form, or continued as new (a new run keeps no summary), shows.
 * Plain functions of the plan and status: no ids, no raters, and email addresses only counted.
 */
import { validateLifecycleInput } from './input';
import type { LifecyclePlan, LifecycleStatus } from './types';

/** The list's line stays short; prompts can be long. */
export const MAX_SUMMARY_CHARS = 200;
/** The details show more of the prompt, still bounded (they are stored in the start event). */
export const MAX_DETAILS_PROMPT_CHARS = 2000;

/** One line, at most `max` characters: whitespace runs (newlines too) become one space, an ellipsis marks a cut. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\p{Cc}\s]+/gu, ' ').trim();
  const chars = [...flat];
  return chars.length <= max ? flat : chars.slice(0, Math.max(0, max - 1)).join('').trimEnd() + '…';
}

/** The channel as the UI shows it: email recipients are counted, never listed. */
export function channelShown(plan: Pick<LifecyclePlan, 'channel' | 'channelLabel'>): string {
  const { channel } = plan;
  if (channel.kind !== 'email') return plan.channelLabel;
  if (channel.list !== undefined) return `email:@${channel.list}`;
  return `email (${channel.recipients.length} recipient${channel.recipients.length === 1 ? '' : 's'})`;
}

function modelsShown(plan: Pick<LifecyclePlan, 'models' | 'candidatesPerModel'>): string {
  return plan.models.map((m) => (plan.candidatesPerModel > 1 ? `${m} ×${plan.candidatesPerModel}` : m)).join(', ');
}

/** `"a red fox in the snow" · demo:shapes ×4 · web`, at most MAX_SUMMARY_CHARS: the prompt gives way first. */
export function lifecycleSummary(plan: LifecyclePlan): string {
  const tail = ` · ${modelsShown(plan)} · ${channelShown(plan)}${plan.campaign !== undefined ? ` · ${plan.campaign}` : ''}`;
  const room = MAX_SUMMARY_CHARS - [...tail].length - 2; // the quotes
  if (room < 20) return oneLine(`"${oneLine(plan.prompt, 40)}"${tail}`, MAX_SUMMARY_CHARS);
  return `"${oneLine(plan.prompt, room)}"${tail}`;
}

function quorumShown({ quorum }: Pick<LifecyclePlan, 'quorum'>): string {
  if (quorum.kind === 'responses') return `${quorum.responses} response${quorum.responses === 1 ? '' : 's'}`;
  return `${quorum.votes} ${quorum.kind === 'total' ? 'votes in total' : 'votes per candidate'}`;
}

/** The start's details (Temporal markdown): the prompt at length and how the lifecycle runs. */
export function lifecycleDetails(plan: LifecyclePlan): string {
  return [
    `**Prompt:** ${oneLine(plan.prompt, MAX_DETAILS_PROMPT_CHARS)}`,
    `**Models:** ${modelsShown(plan)}`,
    `**Channel:** ${channelShown(plan)}`,
    `**Quorum:** ${quorumShown(plan)}`,
    `**Deadline:** ${plan.deadline.kind === 'at' ? plan.deadline.iso : `${Math.round(plan.deadline.ms / 1000)} s after the start`}`,
    ...(plan.campaign !== undefined ? [`**Campaign:** ${oneLine(plan.campaign, 200)}`] : []),
    ...(plan.modelVersion !== undefined ? [`**Model version:** ${oneLine(plan.modelVersion, 200)}`] : []),
  ].join('\n');
}

/** Start options for the Temporal client: what the UI's list and the workflow's page show. */
export function startMetadata(plan: LifecyclePlan): { staticSummary: string; staticDetails: string } {
  return { staticSummary: lifecycleSummary(plan), staticDetails: lifecycleDetails(plan) };
}

/**
 * startMetadata of an input the lifecycle accepts; nothing for one it refuses (the workflow then fails
 * saying why, and the UI shows that instead). For starts made from an input rather than a plan (Slack, the prompt box).
 */
export function startMetadataOf(input: unknown, nowMs: number): { staticSummary?: string; staticDetails?: string } {
  const checked = validateLifecycleInput(input, nowMs);
  return checked.ok ? startMetadata(checked.plan) : {};
}

/** What the current details say; the tally is optional (the workflow shows it when a phase begins). */
export interface DetailsState {
  phase: LifecycleStatus['phase'];
  votesAccepted: number;
  deadlineAt: string;
  closeReason?: LifecycleStatus['closeReason'];
  tally?: ReadonlyArray<{ label: string; model: string; up: number; down: number }>;
  /** A compare lifecycle's answers (wins per candidate label, ties, both bad), shown with the tally. */
  judgements?: { wins: ReadonlyArray<{ label: string; model: string; wins: number }>; tie: number; bothBad: number };
}

/** The workflow's current details (Temporal markdown): its phase, votes and, when given, tally; then what it rates. */
export function currentDetails(plan: LifecyclePlan, state: DetailsState): string {
  const closed = state.closeReason !== undefined ? `, closed: ${state.closeReason}` : '';
  const tally = state.judgements !== undefined
    ? [...state.judgements.wins.map((c) => `${c.label} ${c.model}: ${c.wins} win${c.wins === 1 ? '' : 's'}`), `tie: ${state.judgements.tie}`, `both bad: ${state.judgements.bothBad}`].join(' · ')
    : (state.tally ?? []).map((c) => `${c.label} ${c.model}: 👍 ${c.up} 👎 ${c.down}`).join(' · ');
  return [
    `**${state.phase}**${closed} · ${state.votesAccepted} vote${state.votesAccepted === 1 ? '' : 's'} accepted · deadline ${state.deadlineAt}`,
    ...(tally ? [tally] : []),
    lifecycleSummary(plan),
  ].join('\n');
}
