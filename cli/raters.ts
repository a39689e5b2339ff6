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
import { UsageError, type ParsedArgs } from './args';
import { EXIT, type CommandGroup } from './command';

/** Invites may not outlive a year: a link is a credential. */
const MAX_INVITE_TTL_MS = 366 * 86_400_000;
/** The label of the invite `prefline up` prints for whoever runs it. */
export const OPERATOR_LABEL = 'operator';

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

async function runInvite(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const label = args.positional[0];
  // The argument is optional in the spec so that its absence gets this message rather than the generic one.
  if (label === undefined || label.trim() === '') throw new UsageError('give an email address or a label', 'raters invite');
  const { campaign, expires } = args.flags;
  if (typeof campaign === 'string' && campaign.trim() === '') throw new UsageError('--campaign needs a name', 'raters invite');
  const canGenerate = args.flags['can-generate'] === true;
  let ttlMs = config.gateway.inviteTtlMs;
  if (typeof expires === 'string') {
    const parsed = parseDuration(expires);
    if (parsed === undefined || parsed <= 0) throw new UsageError(`--expires must be a duration like "7d" or "12h", got ${JSON.stringify(expires)}`, 'raters invite');
    ttlMs = parsed;
  }
  if (ttlMs > MAX_INVITE_TTL_MS) throw new UsageError('an invite may last at most 366 days', 'raters invite');
  const registry = await InviteRegistry.open(config.gateway.invitesDir);
  const now = new Date();
  let record: InviteRecord;
  try {
    record = await registry.create({ label, campaign: typeof campaign === 'string' ? campaign : undefined, canGenerate, expiresAt: new Date(now.getTime() + ttlMs), now });
  } catch (err) {
    // The registry refuses a label or campaign it cannot store (control characters, too long).
    if (err instanceof RangeError) throw new UsageError(err.message, 'raters invite');
    throw err;
  }
  process.stdout.write(
    [
      `invited ${record.label}${record.campaign ? ` to campaign ${record.campaign}` : ''} (${record.id}), ${record.canGenerate ? 'may generate with the prompt box, ' : ''}valid until ${record.expiresAt}`,
      linkOf(config, record),
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

function stateOf(record: InviteRecord, now: number): string {
  if (record.revokedAt !== undefined) return 'revoked';
  return Date.parse(record.expiresAt) <= now ? 'expired' : 'active';
}

async function runList(config: PreflineConfig): Promise<number> {
  const records = await (await InviteRegistry.open(config.gateway.invitesDir)).list();
  if (records.length === 0) {
    process.stdout.write('no invites (prefline raters invite <email-or-label>)\n');
    return EXIT.ok;
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

async function runRevoke(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const target = args.positional[0];
  if (target === undefined || target.trim() === '') throw new UsageError('give an invite id or a label', 'raters revoke');
  const revoked = await (await InviteRegistry.open(config.gateway.invitesDir)).revoke(target);
  if (revoked.length === 0) {
    process.stderr.write(`no standing invite matches ${JSON.stringify(target)} (prefline raters list)\n`);
    return EXIT.refused;
  }
  for (const r of revoked) process.stdout.write(`revoked ${r.id} (${r.label}${r.campaign ? `, campaign ${r.campaign}` : ''})\n`);
  return EXIT.ok;
}

export const RATERS_COMMANDS: CommandGroup = {
  name: 'raters',
  summary: 'who may rate on the web page: invite links, signed with the invite key (PREFLINE_INVITE_KEY); works with or without a running gateway',
  commands: [
    {
      spec: {
        name: 'raters invite',
        args: '<email-or-label>',
        summary: 'make an invite link for a rater and print it',
        options: {
          campaign: { type: 'string', value: 'NAME', description: "the rater sees and votes on this campaign's lifecycles only" },
          expires: { type: 'string', value: 'DURATION', description: 'how long the link is valid, like 7d or 12h (default PREFLINE_INVITE_TTL, at most 366d)' },
          'can-generate': { type: 'boolean', description: 'the rater may also start lifecycles from the prompt box on the rating page (PREFLINE_WEB_START_MODELS)' },
        },
        details: 'An email address is stored lower-cased (one rater whatever the case); `raters revoke <label>` withdraws every link of the label.',
        positionals: [0, 1],
      },
      run: runInvite,
    },
    {
      spec: { name: 'raters list', summary: 'every invite: id, label, campaign, state (active, revoked, expired), created, expires, last used' },
      run: runList,
    },
    {
      spec: {
        name: 'raters revoke',
        args: '<invite-id|email-or-label>',
        summary: "withdraw an invite, or all of a label's; their sessions end within seconds",
        details: 'Exit code 3 when no standing invite matches.',
        positionals: [0, 1],
      },
      run: runRevoke,
    },
  ],
};
