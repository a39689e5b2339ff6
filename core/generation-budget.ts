/**
 * The daily generation budget of raters who start lifecycles from the rating page: at most `limit`
 * candidates per rater and UTC day. Kept in files under one folder (PREFLINE_WEB_BUDGET_DIR, like the
 * invite registry), so the count survives a gateway restart and is shared by every gateway:
 *
 *   <dir>/<YYYY-MM-DD>/<rater pseudonym>/<n>     one file per candidate, n in 1..limit, holding its reservation
 *                                                (the lifecycle id and a nonce)
 *
 * A reservation claims free slot numbers by exclusive creation (core/files.ts: first writer wins, across
 * processes and hosts sharing the folder), so concurrent starts on several gateways can never together
 * exceed the limit. Why files and not Temporal visibility (counting lifecycles by a StartedBy search
 * attribute): visibility is eventually consistent, so two quick starts could both see room; it counts
 * lifecycles, not candidates; and it ties the budget to a search attribute every cluster must register.
 * Days before yesterday are removed as new ones are written. Raters appear by pseudonym only.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode, writeFileAtomic } from './files';

const RATER = /^r_[0-9a-f]{24}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const LIFECYCLE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** `reservation` names what was reserved, to give it back with `release`. */
export type Reservation = { ok: true; used: number; reservation: string } | { ok: false; used: number };

export class GenerationBudget {
  private lastPruned = '';

  private constructor(readonly dir: string, readonly limit: number) {}

  /** `limit` 0: no budget (nothing is counted). */
  static async open(dir: string, limit: number): Promise<GenerationBudget> {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`generation budget: the limit must be a non-negative integer, not ${limit}`);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    return new GenerationBudget(dir, limit);
  }

  /** Candidates `rater` has generated (reserved) on the UTC day of `now`. */
  async used(rater: string, now: Date): Promise<number> {
    return (await this.slots(rater, now)).length;
  }

  /**
   * Reserves `count` candidates of today's budget for a lifecycle about to start: all of them, or none
   * (when they do not fit; `used` says how many were taken then).
   */
  async reserve(rater: string, lifecycleId: string, count: number, now: Date): Promise<Reservation> {
    if (!LIFECYCLE_ID.test(lifecycleId)) throw new RangeError('generation budget: not a lifecycle id');
    if (!Number.isInteger(count) || count < 1) throw new RangeError('generation budget: reserve at least one candidate');
    const reservation = `${lifecycleId} ${randomBytes(6).toString('hex')}`;
    if (this.limit === 0) return { ok: true, used: 0, reservation };
    const folder = this.folder(rater, now);
    await fs.mkdir(folder, { recursive: true, mode: 0o700 });
    void this.prune(now);
    const taken = new Set(await this.slots(rater, now));
    const claimed: string[] = [];
    for (let n = 1; n <= this.limit && claimed.length < count; n++) {
      if (taken.has(String(n))) continue;
      const slot = path.join(folder, String(n));
      // Exclusive: a slot another gateway claimed a moment ago is simply not ours.
      if (await writeFileAtomic(slot, reservation, 'exclusive', { durable: false, fileMode: 0o600 })) claimed.push(slot);
    }
    if (claimed.length < count) {
      await Promise.all(claimed.map((slot) => fs.rm(slot, { force: true })));
      return { ok: false, used: await this.used(rater, now) };
    }
    return { ok: true, used: await this.used(rater, now), reservation };
  }

  /** Gives a reservation back (its start did not happen, or the lifecycle had been started before). */
  async release(rater: string, reservation: string, now: Date): Promise<void> {
    if (this.limit === 0) return;
    const folder = this.folder(rater, now);
    for (const slot of await this.slots(rater, now)) {
      const file = path.join(folder, slot);
      const holder = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (holder === reservation) await fs.rm(file, { force: true });
    }
  }

  private folder(rater: string, now: Date): string {
    if (!RATER.test(rater)) throw new RangeError('generation budget: not a rater pseudonym');
    return path.join(this.dir, dayOf(now), rater);
  }

  /** The slot files of a rater's day (temp files of writes in progress left out). */
  private async slots(rater: string, now: Date): Promise<string[]> {
    try {
      return (await fs.readdir(this.folder(rater, now))).filter((name) => /^\d+$/.test(name));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  /** Removes days before yesterday (a clock a little behind another gateway's still finds its day); best effort. */
  private async prune(now: Date): Promise<void> {
    const today = dayOf(now);
    if (this.lastPruned === today) return;
    this.lastPruned = today;
    const yesterday = dayOf(new Date(now.getTime() - 86_400_000));
    try {
      for (const name of await fs.readdir(this.dir)) {
        if (DAY.test(name) && name < yesterday) await fs.rm(path.join(this.dir, name), { recursive: true, force: true });
      }
    } catch {
      // another gateway pruning at the same moment: nothing lost
    }
  }
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function dayOf(now: Date): string {
  return now.toISOString().slice(0, 10);
}
