/**
 * `prefline raters …`: who may rate on the web page (gateway/invites.ts, gateway/invite-registry.ts).
 *
 *   raters invite <email-or-label> [--campaign NAME] [--expires 30d] [--can-generate]   a signed invite link, printed
 *   raters list                                                       every invite and its state
 *   raters revoke <invite-id|email-or-label>                          withdraw a link (all of a label's)
 *
 * The registry is a folder of small files the gateway reads (PREFLINE_INVITES_DIR), so these work
 * with or without a running gateway; a revocation ends the invite's sessions within seconds.
 */
import { loadSecret, type PreflineConfig } from '../config';
import { parseDuration } from '../core/duration';
import { InviteRegistry, type InviteRecord } from '../gateway/invite-registry';
import { inviteLink, signInvite } from '../gateway/invites';
import type { ParsedArgs } from './main';

/** Invites may not outlive a year: a link is a credential. */
const MAX_INVITE_TTL_MS = 366 * 86_400_000;
/** The label of the invite `prefline up` prints for whoever runs it. */
export const OPERATOR_LABEL = 'operator';

const USAGE = `usage: prefline raters invite <email-or-label> [--campaign NAME] [--expires 30d] [--can-generate]
       prefline raters list
       prefline raters revoke <invite-id|email-or-label>`;

export async function runRaters(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const [verb, target, ...extra] = args.positional;
  if (extra.length > 0) throw new Error(`raters: unexpected ${JSON.stringify(extra[0])}\n${USAGE}`);
  const registry = await InviteRegistry.open(config.gateway.invitesDir);
  switch (verb) {
    case 'invite': return invite(config, registry, target, args);
    case 'list': return list(registry);
    case 'revoke': return revoke(registry, target);
    default:
      process.stderr.write(`${verb === undefined ? 'raters: what?' : `raters: unknown command "${verb}"`}\n${USAGE}\n`);
      return 2;
  }
}

/** The link of an invite (links are derived from id and expiry, so one can be shown again). */
export function linkOf(config: PreflineConfig, record: InviteRecord): string {
  return inviteLink(config.gateway.publicUrl, signInvite(loadSecret(config, 'invite'), { inviteId: record.id, expiresAt: Date.parse(record.expiresAt) }));
}

/**
 * For `prefline up`: a link for the operator, the newest standing `operator` invite with a day left,
 * or a new one; so restarts print the same link instead of piling up invites. The operator may
 * generate (the prompt box, where PREFLINE_WEB_START_MODELS offers it).
 */
export async function operatorInviteLink(config: PreflineConfig, now = new Date()): Promise<string> {
  const registry = await InviteRegistry.open(config.gateway.invitesDir);
  const standing = (await registry.list())
    .filter((r) => r.label === OPERATOR_LABEL && r.campaign === undefined && r.canGenerate === true && r.revokedAt === undefined && Date.parse(r.expiresAt) - now.getTime() > 86_400_000)
    .at(-1);
  const record = standing ?? (await registry.create({ label: OPERATOR_LABEL, canGenerate: true, expiresAt: new Date(now.getTime() + config.gateway.inviteTtlMs), now }));
  return linkOf(config, record);
}

async function invite(config: PreflineConfig, registry: InviteRegistry, label: string | undefined, args: ParsedArgs): Promise<number> {
  if (label === undefined || label.trim() === '') throw new Error(`raters invite: give an email address or a label\n${USAGE}`);
  const { campaign, expires } = args.flags;
  if (campaign === true) throw new Error('raters invite: --campaign needs a name');
  const canGenerate = args.flags['can-generate'];
  if (canGenerate !== undefined && canGenerate !== true) throw new Error('raters invite: --can-generate takes no value');
  let ttlMs = config.gateway.inviteTtlMs;
  if (expires !== undefined) {
    const parsed = typeof expires === 'string' ? parseDuration(expires) : undefined;
    if (parsed === undefined || parsed <= 0) throw new Error(`raters invite: --expires must be a duration like "7d" or "12h", got ${JSON.stringify(expires)}`);
    ttlMs = parsed;
  }
  if (ttlMs > MAX_INVITE_TTL_MS) throw new Error('raters invite: an invite may last at most 366 days');
  const now = new Date();
  let record: InviteRecord;
  try {
    record = await registry.create({ label, campaign, canGenerate: canGenerate === true, expiresAt: new Date(now.getTime() + ttlMs), now });
  } catch (err) {
    if (err instanceof RangeError) throw new Error(`raters invite: ${err.message}`);
    throw err;
  }
  process.stdout.write(
    [
      `invited ${record.label}${record.campaign ? ` to campaign ${record.campaign}` : ''} (${record.id}), ${record.canGenerate ? 'may generate with the prompt box, ' : ''}valid until ${record.expiresAt}`,
      linkOf(config, record),
      '',
    ].join('\n'),
  );
  return 0;
}

function stateOf(record: InviteRecord, now: number): string {
  if (record.revokedAt !== undefined) return 'revoked';
  return Date.parse(record.expiresAt) <= now ? 'expired' : 'active';
}

async function list(registry: InviteRegistry): Promise<number> {
  const records = await registry.list();
  if (records.length === 0) {
    process.stdout.write('no invites (prefline raters invite <email-or-label>)\n');
    return 0;
  }
  const now = Date.now();
  const rows = [
    ['id', 'label', 'campaign', 'state', 'created', 'expires', 'last used'],
    ...records.map((r) => [r.id, r.label, r.campaign ?? '', stateOf(r, now), r.createdAt, r.expiresAt, r.lastUsedAt ?? '']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => [...row[i]!].length)));
  process.stdout.write(rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
  return 0;
}

async function revoke(registry: InviteRegistry, target: string | undefined): Promise<number> {
  if (target === undefined) throw new Error(`raters revoke: give an invite id or a label\n${USAGE}`);
  const revoked = await registry.revoke(target);
  if (revoked.length === 0) {
    process.stderr.write(`no standing invite matches ${JSON.stringify(target)} (prefline raters list)\n`);
    return 1;
  }
  for (const r of revoked) process.stdout.write(`revoked ${r.id} (${r.label}${r.campaign ? `, campaign ${r.campaign}` : ''})\n`);
  return 0;
}
