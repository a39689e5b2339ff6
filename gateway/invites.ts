/**
 * Invite links: how a rater gets onto the web page without typing who they are. Ops run
 * `prefline raters invite <email-or-label>`; the link carries a token signed with the invite key
 * (PREFLINE_INVITE_KEY or <data>/secrets/invite.key, its own key so that rotating the session key
 * logs raters out without voiding their links, and the other way round) holding the invite's id and
 * expiry. What the invite is for (its label, campaign, revocation) lives in the invite registry
 * (invite-registry.ts), which the gateway consults on every redemption and, through a short cache,
 * on every request of a session redeemed from it.
 *
 * Who the rater is follows from the label: an email address gives the same pseudonym as the email
 * channel (and OIDC with a verified address), so an invited person is one rater everywhere; any other
 * label is an `invite` identity of its own. The label itself never leaves the registry.
 */
import { pseudonymiseRater } from '../core/pseudonym';
import { EMAIL_ADDRESS } from '../workflows/input';
import { openToken, sealToken } from './signed-token';

const PURPOSE = 'prefline-invite';
export const INVITE_ID = /^inv_[0-9a-f]{20}$/;
export const MAX_LABEL_LENGTH = 200;
/** Campaign names as lifecycle input allows them in labels: kept short and printable. */
const MAX_CAMPAIGN_LENGTH = 100;

export interface InviteClaim {
  inviteId: string;
  /** Epoch ms. */
  expiresAt: number;
}

export type InviteCheck = { ok: true; claim: InviteClaim } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function signInvite(key: Buffer, claim: InviteClaim): string {
  if (!INVITE_ID.test(claim.inviteId)) throw new Error(`not an invite id: ${claim.inviteId}`);
  return sealToken(key, { v: 1, i: claim.inviteId, exp: claim.expiresAt }, PURPOSE);
}

export function verifyInvite(key: Buffer, token: unknown, nowMs: number): InviteCheck {
  const opened = openToken(key, token, PURPOSE);
  if (!opened.ok) return opened;
  const p = opened.payload as { v?: unknown; i?: unknown; exp?: unknown } | null;
  if (typeof p !== 'object' || p === null || p.v !== 1 || typeof p.i !== 'string' || !INVITE_ID.test(p.i) || typeof p.exp !== 'number' || !Number.isFinite(p.exp)) {
    return { ok: false, reason: 'malformed' };
  }
  if (nowMs >= p.exp) return { ok: false, reason: 'expired' };
  return { ok: true, claim: { inviteId: p.i, expiresAt: p.exp } };
}

/** The link a rater opens: the page reads the token from the fragment, which never reaches a server log. */
export function inviteLink(publicUrl: string, token: string): string {
  return `${publicUrl}/#/invite/${token}`;
}

/** An invite label as stored: an email address lowercased, any other label NFKC-normalised and trimmed. */
export function normaliseLabel(raw: string): string {
  const label = raw.normalize('NFKC').trim();
  if (label.length === 0 || [...label].length > MAX_LABEL_LENGTH || /[\p{Cc}\p{Cf}]/u.test(label)) {
    throw new RangeError(`an invite label is 1–${MAX_LABEL_LENGTH} characters without control or formatting characters`);
  }
  return isEmailLabel(label) ? label.toLowerCase() : label;
}

export function normaliseCampaign(raw: string): string {
  const campaign = raw.trim();
  if (campaign.length === 0 || campaign.length > MAX_CAMPAIGN_LENGTH || /[\p{Cc}\p{Cf}]/u.test(campaign)) {
    throw new RangeError(`a campaign is 1–${MAX_CAMPAIGN_LENGTH} characters without control or formatting characters`);
  }
  return campaign;
}

export function isEmailLabel(label: string): boolean {
  return label.length <= 254 && EMAIL_ADDRESS.test(label);
}

/** The pseudonym of an invited rater: as on the email channel for an address, else of the label. */
export function invitedRater(raterKey: Buffer, label: string): string {
  return isEmailLabel(label) ? pseudonymiseRater(raterKey, 'email', label.toLowerCase()) : pseudonymiseRater(raterKey, 'invite', label);
}

/** What the page shows for an invited rater: the label, or an address's local part (responses never carry addresses). */
export function displayNameOf(label: string): string {
  return isEmailLabel(label) ? label.slice(0, label.lastIndexOf('@')) : label;
}
