/**
 * The invite registry, under `<data>/invites/` (PREFLINE_INVITES_DIR): written by `prefline raters`,
 * read by the gateway. One small file per fact, each created atomically (core/files.ts), so the CLI
 * and any number of gateway processes need no lock and no write ever undoes another (a revocation is
 * its own file, not an edit of the invite that a concurrent "last used" write could overwrite):
 *
 *   <id>.json      the invite: label, campaign, may it generate, created, expires (exclusive create; never changed)
 *   <id>.revoked   revoked, with when (exclusive create: the first revocation's time stays)
 *   <id>.used      last redeemed, with when (replaced on each redemption; best effort)
 *
 * Labels (an email address or a name) stay here: sessions, votes, the ledger and releases carry
 * pseudonyms only. Files are 0600 and the folder 0700.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode, writeFileAtomic } from '../core/files';
import { INVITE_ID, isEmailLabel, normaliseCampaign, normaliseLabel } from './invites';

export interface InviteRecord {
  id: string;
  label: string;
  campaign?: string;
  /** Its rater may start lifecycles from the rating page's prompt box (`prefline raters invite --can-generate`). */
  canGenerate?: true;
  /** ISO-8601. */
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

export type InviteState = 'active' | 'revoked' | 'expired' | 'unknown';

export class InviteRegistry {
  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<InviteRegistry> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    return new InviteRegistry(dir);
  }

  async create(request: { label: string; campaign?: string | undefined; canGenerate?: boolean; expiresAt: Date; now?: Date }): Promise<InviteRecord> {
    const now = request.now ?? new Date();
    if (!(request.expiresAt.getTime() > now.getTime())) throw new RangeError('an invite must expire in the future');
    const record: InviteRecord = {
      id: `inv_${randomBytes(10).toString('hex')}`,
      label: normaliseLabel(request.label),
      ...(request.campaign !== undefined ? { campaign: normaliseCampaign(request.campaign) } : {}),
      ...(request.canGenerate ? { canGenerate: true as const } : {}),
      createdAt: now.toISOString(),
      expiresAt: request.expiresAt.toISOString(),
    };
    const created = await writeFileAtomic(this.file(record.id, 'json'), JSON.stringify(record), 'exclusive', { fileMode: 0o600 });
    if (!created) throw new Error(`invite id ${record.id} exists already`); // 80 random bits: never in practice
    return record;
  }

  /** The invite with its revocation and last use; undefined for an unknown (or malformed) id. */
  async get(id: string): Promise<InviteRecord | undefined> {
    if (!INVITE_ID.test(id)) return undefined;
    const base = await readJson<InviteRecord>(this.file(id, 'json'));
    if (!base) return undefined;
    const [revoked, used] = await Promise.all([readJson<{ at: string }>(this.file(id, 'revoked')), readJson<{ at: string }>(this.file(id, 'used'))]);
    return { ...base, ...(revoked ? { revokedAt: revoked.at } : {}), ...(used ? { lastUsedAt: used.at } : {}) };
  }

  /** Whether the invite may be used now. */
  async state(id: string, now: Date = new Date()): Promise<InviteState> {
    if (!INVITE_ID.test(id)) return 'unknown';
    const base = await readJson<InviteRecord>(this.file(id, 'json'));
    if (!base) return 'unknown';
    if (await exists(this.file(id, 'revoked'))) return 'revoked';
    return Date.parse(base.expiresAt) <= now.getTime() ? 'expired' : 'active';
  }

  /** Every invite, oldest first. */
  async list(): Promise<InviteRecord[]> {
    const names = await fs.readdir(this.dir);
    const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((id) => INVITE_ID.test(id));
    const records = (await Promise.all(ids.map((id) => this.get(id)))).filter((r): r is InviteRecord => r !== undefined);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * Revokes one invite by id, or every invite of a label (an address matches in any case). Returns
   * the invites it revoked now; already revoked ones are left as they were.
   */
  async revoke(idOrLabel: string, now: Date = new Date()): Promise<InviteRecord[]> {
    let targets: InviteRecord[];
    if (INVITE_ID.test(idOrLabel)) {
      const one = await this.get(idOrLabel);
      targets = one ? [one] : [];
    } else {
      let label: string;
      try {
        label = normaliseLabel(idOrLabel);
      } catch {
        return [];
      }
      const same = (l: string) => (isEmailLabel(label) ? l.toLowerCase() === label : l === label);
      targets = (await this.list()).filter((r) => same(r.label));
    }
    const revoked: InviteRecord[] = [];
    for (const record of targets.filter((r) => r.revokedAt === undefined)) {
      const at = now.toISOString();
      if (await writeFileAtomic(this.file(record.id, 'revoked'), JSON.stringify({ at }), 'exclusive', { fileMode: 0o600 })) revoked.push({ ...record, revokedAt: at });
    }
    return revoked;
  }

  /** Records a redemption (last use); not durable: losing one on a crash loses only a "last used" time. */
  async markUsed(id: string, now: Date = new Date()): Promise<void> {
    if (!INVITE_ID.test(id)) return;
    await writeFileAtomic(this.file(id, 'used'), JSON.stringify({ at: now.toISOString() }), 'replace', { durable: false, fileMode: 0o600 });
  }

  private file(id: string, kind: 'json' | 'revoked' | 'used'): string {
    return path.join(this.dir, `${id}.${kind}`);
  }
}

/**
 * The gateway's view of the registry: an invite's state, re-read at most every `ttlMs`, so a
 * revocation ends the invite's sessions within that time without a file read on every vote.
 */
export class InviteStateCache {
  private readonly cache = new Map<string, { state: InviteState; until: number }>();

  constructor(
    private readonly registry: InviteRegistry,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  async state(id: string): Promise<InviteState> {
    const now = this.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) return hit.state;
    const state = await this.registry.state(id, new Date(now));
    if (this.cache.size >= this.maxEntries) this.cache.clear(); // re-reading is cheap; unbounded memory is not
    this.cache.set(id, { state, until: now + this.ttlMs });
    return state;
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
