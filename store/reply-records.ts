/**
 * Finished chat replies by a deterministic key, beside the artifact store (and shared like it by the
 * inference workers): `<artifacts>/chat-replies/<aa>/<key>.json`, where the key is a digest of the
 * conversation's run id and the reply's message id — the same for every attempt of the activity. The
 * reply activity writes the record, which holds the text, beside the text's artifact before it
 * returns; a retry after a worker crash finds the record and returns the reply without asking the
 * model again. A record is created exactly once (hard link, no clobber): the first wins.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode, writeFileAtomic } from '../core/files';
import type { ReplyProvenance } from '../workflows/types';

export interface ReplyRecord {
  conversationRunId: string;
  replyId: string;
  /** The reply's text (its artifact is written beside the record). */
  text: string;
  provenance: ReplyProvenance;
  storedAt: string;
}

export class ReplyRecords {
  private constructor(readonly dir: string) {}

  static async open(artifactDir: string): Promise<ReplyRecords> {
    const dir = path.join(path.resolve(artifactDir), 'chat-replies');
    await fs.mkdir(dir, { recursive: true });
    return new ReplyRecords(dir);
  }

  /** The attempt-independent key of a reply. */
  static keyOf(conversationRunId: string, replyId: string): string {
    return createHash('sha256').update(`prefline-chat-reply\0${conversationRunId}\0${replyId}`).digest('hex');
  }

  async get(conversationRunId: string, replyId: string): Promise<ReplyRecord | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.fileOf(conversationRunId, replyId), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const record = JSON.parse(text) as ReplyRecord;
    // A record of another reply under this name would be a bug (or tampering): never hand it out.
    if (record.conversationRunId !== conversationRunId || record.replyId !== replyId) return undefined;
    return record;
  }

  /** Stores the record unless one exists; returns the one that stands. */
  async put(record: ReplyRecord): Promise<ReplyRecord> {
    const file = this.fileOf(record.conversationRunId, record.replyId);
    await fs.mkdir(path.dirname(file), { recursive: true });
    if (await writeFileAtomic(file, JSON.stringify(record) + '\n', 'exclusive')) return record;
    return (await this.get(record.conversationRunId, record.replyId)) ?? record;
  }

  private fileOf(conversationRunId: string, replyId: string): string {
    const key = ReplyRecords.keyOf(conversationRunId, replyId);
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}
