/**
 * What the web vote API shows of a lifecycle: the fields the rating page uses, with every artifact's
 * signed URL, and never an email address. An email lifecycle's channel label lists its recipients
 * (`email:a@x.org,b@y.org`), so it is shown as `email`; a named list (`email:@reviewers`) names no
 * one and stays. Channel posts (message references) are left out: the page has no use for them.
 * Pure; the route authenticates and reads.
 */
import type { LifecycleStatus } from '../../workflows/types';

export type PublicCandidate = Omit<LifecycleStatus['candidates'][number], 'artifact'> & {
  artifact: LifecycleStatus['candidates'][number]['artifact'] & { url: string };
};

export type PublicStatus = Omit<LifecycleStatus, 'posts' | 'candidates'> & { candidates: PublicCandidate[] };

/** The channel label without recipients. */
export function publicChannel(label: string): string {
  if (!label.startsWith('email:')) return label;
  return /^email:@[a-z0-9][a-z0-9_-]{0,63}$/.test(label) ? label : 'email';
}

export function publicStatus(status: LifecycleStatus, artifactUrl: (sha256: string) => string): PublicStatus {
  return {
    lifecycleId: status.lifecycleId,
    prompt: status.prompt,
    phase: status.phase,
    channel: publicChannel(status.channel),
    models: status.models,
    ...(status.campaign !== undefined ? { campaign: status.campaign } : {}),
    ...(status.modelVersion !== undefined ? { modelVersion: status.modelVersion } : {}),
    quorum: status.quorum,
    ...(status.deadlineAt !== undefined ? { deadlineAt: status.deadlineAt } : {}),
    candidates: status.candidates.map((c) => ({
      id: c.id,
      label: c.label,
      model: c.model,
      kind: c.kind,
      ...(c.text !== undefined ? { text: c.text } : {}),
      placeholder: c.placeholder,
      artifact: { sha256: c.artifact.sha256, mime: c.artifact.mime, size: c.artifact.size, url: artifactUrl(c.artifact.sha256) },
      tally: c.tally,
    })),
    votesAccepted: status.votesAccepted,
    ...(status.closeReason !== undefined ? { closeReason: status.closeReason } : {}),
  };
}
