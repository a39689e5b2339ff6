/**
 * The gateway's delivery journal: what was appended and not marked done survives a SIGKILLed process
 * and is recovered exactly by the next gateway on the host, never from a live one or another host.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryJournal } from '../../../channels/slack/delivery-journal';

const MODULE = join(__dirname, '../../../channels/slack/delivery-journal.js');

/** A child process that opens a journal in `dir`, runs `script` against it, prints "ready" and waits. */
async function journalingChild(dir: string, script: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `
    const { DeliveryJournal } = require(${JSON.stringify(MODULE)});
    (async () => {
      const { journal } = await DeliveryJournal.open(${JSON.stringify(dir)});
      ${script}
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    })();
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`journaling child exited early (${code})`)));
  });
  return {
    pid: child.pid!,
    kill: () => new Promise<void>((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const journalFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

describe('channels/slack/delivery-journal', function () {
  this.timeout(30_000);
  let dir: string;
  const open: DeliveryJournal[] = [];
  const openJournal = async () => {
    const result = await DeliveryJournal.open(dir);
    open.push(result.journal);
    return result;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-journal-'));
  });

  afterEach(async () => {
    for (const j of open.splice(0)) await j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should recover what a SIGKILLed gateway appended and had not marked done, in order, once', async () => {
    const child = await journalingChild(dir, `
      await journal.append('event:Ev1', 'event', { n: 1 }, 1000);
      await journal.append('event:Ev2', 'event', { n: 2 }, 2000);
      await journal.append('event:Ev3', 'event', { n: 3 }, 3000);
      journal.done('event:Ev2');
      await journal.append('event:Ev4', 'event', { n: 4 }, 4000); // the done line is durable with this append
    `);
    // While the child lives, its file is not taken over.
    assert.deepEqual((await openJournal()).recovered, []);
    await child.kill();
    const { journal, recovered } = await openJournal();
    assert.deepEqual(recovered, [
      { key: 'event:Ev1', kind: 'event', body: { n: 1 }, acceptedAt: 1000 },
      { key: 'event:Ev3', kind: 'event', body: { n: 3 }, acceptedAt: 3000 },
      { key: 'event:Ev4', kind: 'event', body: { n: 4 }, acceptedAt: 4000 },
    ]);
    assert.equal(journal.pending, 3);
    assert.ok(!journalFiles(dir).some((f) => f.includes(`-${child.pid}-`)), 'the dead gateway\'s file is gone');
    // Recovered entries now live in this journal: a third gateway finds nothing while this one lives.
    assert.deepEqual((await openJournal()).recovered, []);
    for (const e of recovered) journal.done(e.key);
    await journal.close();
    assert.deepEqual((await openJournal()).recovered, []);
  });

  it('should ignore a torn last line (never acknowledged) and files of other hosts', async () => {
    const host = hostname().replace(/[^A-Za-z0-9.]/g, '_').slice(0, 64);
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max: never a live process
    const mine = join(dir, `journal-${host}-${deadPid}-0123abcd.jsonl`);
    writeFileSync(mine, JSON.stringify({ a: 'event:Ok', k: 'event', b: {}, t: 1 }) + '\n');
    appendFileSync(mine, '{"a":"event:Torn","k":"event","b":{');
    const foreign = join(dir, `journal-other-host-${deadPid}-0123abcd.jsonl`);
    writeFileSync(foreign, JSON.stringify({ a: 'event:Theirs', k: 'event', b: {}, t: 1 }) + '\n');
    const { recovered } = await openJournal();
    assert.deepEqual(recovered.map((e) => e.key), ['event:Ok']);
    assert.ok(journalFiles(dir).includes(`journal-other-host-${deadPid}-0123abcd.jsonl`), 'another host\'s journal is left alone');
  });

  it('should hand pending entries over on close, and remove the file when nothing is pending', async () => {
    const first = await DeliveryJournal.open(dir);
    await first.journal.append('event:Kept', 'event', { x: 1 });
    await first.journal.append('event:Done', 'event', { x: 2 });
    first.journal.done('event:Done');
    await first.journal.close();
    assert.equal(journalFiles(dir).length, 1);
    await assert.rejects(first.journal.append('event:Late', 'event', {}), /closed/);
    const second = await DeliveryJournal.open(dir);
    assert.deepEqual(second.recovered.map((e) => e.key), ['event:Kept']);
    second.journal.done('event:Kept');
    await second.journal.close();
    assert.deepEqual(journalFiles(dir), []);
  });

  it('should group-commit concurrent appends and compact a file of mostly done lines', async () => {
    const { journal } = await openJournal();
    await Promise.all(Array.from({ length: 300 }, (_, i) => journal.append(`event:C${i}`, 'event', { i })));
    assert.equal(journal.pending, 300);
    // Appending a key already pending is a no-op.
    await journal.append('event:C0', 'event', { i: 'again' });
    const [file] = journalFiles(dir);
    assert.equal(lines(join(dir, file!)).length, 300);
    for (let i = 0; i < 300; i++) journal.done(`event:C${i}`);
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 250 }, (_, i) => journal.append(`event:R${round}-${i}`, 'event', {})));
      for (let i = 0; i < 250; i++) if (!(round === 19 && i < 5)) journal.done(`event:R${round}-${i}`);
    }
    await journal.append('event:Last', 'event', {}); // flushes the done lines, then compacts
    const kept = lines(join(dir, journalFiles(dir)[0]!));
    assert.ok(kept.length < 5000, `10,301 lines written, ${kept.length} kept`);
    assert.equal(journal.pending, 6);
    // Compaction kept exactly the pending entries.
    await journal.close();
    const next = await openJournal();
    assert.deepEqual(next.recovered.map((e) => e.key).sort(), ['event:Last', ...[0, 1, 2, 3, 4].map((i) => `event:R19-${i}`)].sort());
  });
});
