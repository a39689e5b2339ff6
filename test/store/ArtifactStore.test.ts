import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorCode, PreflineError } from '../../core/errors';
import { ArtifactNotFoundError, ArtifactStore, extensionForMime } from '../../store/ArtifactStore';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

function isCode(code: ErrorCode) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof PreflineError, `expected a PreflineError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.retryable, false);
    return true;
  };
}

describe('ArtifactStore', () => {
  let root: string;
  let store: ArtifactStore;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'prefline-artifacts-'));
    store = await ArtifactStore.open(root);
  });

  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('should round-trip bytes through put and read under the content-addressed layout', async () => {
    const bytes = Buffer.from('\x89PNG fake image bytes for the round trip');
    const hex = sha(bytes);
    const ref = await store.put(bytes, 'image/png');
    assert.deepEqual(ref, { sha256: hex, mime: 'image/png', size: bytes.length, path: `sha256/${hex.slice(0, 2)}/${hex}.png` });
    assert.equal(store.absolutePath(ref), path.join(root, 'sha256', hex.slice(0, 2), `${hex}.png`));
    assert.deepEqual(await fs.readFile(store.absolutePath(ref)), bytes);

    const { ref: readRef, bytes: readBytes } = await store.read(hex);
    assert.deepEqual(readRef, ref);
    assert.deepEqual(readBytes, bytes);
    assert.equal(await store.has(hex), true);
    assert.deepEqual(await store.stat(hex), ref);

    const sidecar = JSON.parse(await fs.readFile(path.join(root, 'sha256', hex.slice(0, 2), `${hex}.meta.json`), 'utf8'));
    assert.equal(sidecar.sha256, hex);
    assert.equal(sidecar.mime, 'image/png');
    assert.equal(sidecar.size, bytes.length);
    assert.ok(!Number.isNaN(Date.parse(sidecar.createdAt)));

    const chunks: Buffer[] = [];
    for await (const chunk of store.createReadStream(ref)) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), bytes);
  });

  it('should report unknown artifacts as absent and refuse to read them', async () => {
    const hex = sha(Buffer.from('never stored'));
    assert.equal(await store.has(hex), false);
    assert.equal(await store.stat(hex), undefined);
    await assert.rejects(store.read(hex), (err: unknown) => err instanceof ArtifactNotFoundError && err.retryable === false);
  });

  it('should store identical bytes once and not rewrite them on a second put', async () => {
    const bytes = Buffer.from('the same bytes, twice');
    const first = await store.put(bytes, 'text/plain');
    const before = await fs.stat(store.absolutePath(first));
    const sidecarBefore = await fs.readFile(path.join(root, 'sha256', first.sha256.slice(0, 2), `${first.sha256}.meta.json`), 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 20));

    const second = await store.put(Buffer.from(bytes), 'text/plain');
    assert.deepEqual(second, first);
    const after = await fs.stat(store.absolutePath(second));
    assert.equal(after.ino, before.ino, 'the data file was replaced');
    assert.equal(after.mtimeMs, before.mtimeMs, 'the data file was rewritten');
    assert.equal(await fs.readFile(path.join(root, 'sha256', first.sha256.slice(0, 2), `${first.sha256}.meta.json`), 'utf8'), sidecarBefore);

    // Same bytes under another mime: the first record wins, still one data file.
    assert.deepEqual(await store.put(bytes, 'application/octet-stream'), first);
    assert.deepEqual(await listFiles(root), [`sha256/${first.sha256.slice(0, 2)}/${first.sha256}.meta.json`, first.path].sort());
  });

  it('should record mime and size and pick the extension from the mime', async () => {
    const text = Buffer.from('héllo wörld', 'utf8');
    const ref = await store.put(text, 'text/plain; charset=utf-8');
    assert.equal(ref.mime, 'text/plain; charset=utf-8');
    assert.equal(ref.size, text.byteLength);
    assert.match(ref.path, /\.txt$/);
    assert.deepEqual(await store.stat(ref.sha256), ref);

    const cases: Array<[string, string]> = [
      ['image/png', 'png'], ['image/jpeg', 'jpg'], ['image/webp', 'webp'], ['image/gif', 'gif'],
      ['text/plain', 'txt'], ['application/json', 'json'], ['application/octet-stream', 'bin'], ['IMAGE/PNG', 'png'],
    ];
    for (const [mime, ext] of cases) assert.equal(extensionForMime(mime), ext, mime);

    // A JSON artifact must not collide with its own sidecar.
    const json = await store.put(Buffer.from('{"a":1}'), 'application/json');
    assert.deepEqual((await store.read(json.sha256)).bytes, Buffer.from('{"a":1}'));
    assert.equal((await store.stat(json.sha256))?.mime, 'application/json');
  });

  it('should reject malformed mime types', async () => {
    for (const mime of ['', 'png', 'image/', '/png', 'image/png/x', 'image/png\nX-Evil: 1', '../../x', 'image/png; charset', 'a'.repeat(300) + '/b']) {
      await assert.rejects(store.put(Buffer.from('x'), mime), isCode(ErrorCode.InvalidParams), JSON.stringify(mime));
    }
    assert.deepEqual(await listFiles(root), []);
  });

  it('should write atomically and leave no temp files behind', async () => {
    const refs = await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(Buffer.from(`artifact ${i}`), 'text/plain')));
    const files = await listFiles(root);
    assert.equal(files.length, 40, 'one data file and one sidecar per artifact');
    assert.ok(files.every((f) => !path.basename(f).startsWith('.') && !f.endsWith('.tmp')), files.join('\n'));
    for (const ref of refs) assert.equal((await store.read(ref.sha256)).ref.sha256, ref.sha256);
  });

  it('should treat a data file without a sidecar (crash before commit) as absent and complete it on the next put', async () => {
    const bytes = Buffer.from('half-committed');
    const hex = sha(bytes);
    await fs.mkdir(path.join(root, 'sha256', hex.slice(0, 2)), { recursive: true });
    await fs.writeFile(path.join(root, 'sha256', hex.slice(0, 2), `${hex}.txt`), bytes);
    assert.equal(await store.has(hex), false);
    const ref = await store.put(bytes, 'text/plain');
    assert.equal(await store.has(hex), true);
    assert.deepEqual((await store.read(hex)).bytes, bytes);
    assert.equal(ref.sha256, hex);
  });

  it('should treat a sidecar whose data file was lost (a crash before the folder was synced) as absent and complete it on the next put', async () => {
    const bytes = Buffer.from('sidecar survived, data did not');
    const ref = await store.put(bytes, 'text/plain');
    await fs.rm(store.absolutePath(ref));
    assert.equal(await store.has(ref.sha256), false);
    await assert.rejects(store.read(ref.sha256), isCode(ErrorCode.ArtifactNotFound));
    assert.deepEqual(await store.put(bytes, 'text/plain'), ref);
    assert.deepEqual((await store.read(ref.sha256)).bytes, bytes);
  });

  it('should detect a corrupted or truncated file on read and heal it on the next put', async () => {
    const bytes = Buffer.from('precious bytes that must not change');
    const ref = await store.put(bytes, 'application/octet-stream');
    const file = store.absolutePath(ref);

    const flipped = Buffer.from(bytes);
    flipped[3] = flipped[3]! ^ 0xff;
    await fs.writeFile(file, flipped);
    await assert.rejects(store.read(ref.sha256), isCode(ErrorCode.ArtifactIntegrity));

    await fs.writeFile(file, bytes.subarray(0, 10));
    await assert.rejects(store.read(ref.sha256), isCode(ErrorCode.ArtifactIntegrity));

    assert.deepEqual(await store.put(bytes, 'application/octet-stream'), ref);
    assert.deepEqual((await store.read(ref.sha256)).bytes, bytes);
  });

  it('should reject a corrupted sidecar', async () => {
    const ref = await store.put(Buffer.from('sidecar test'), 'text/plain');
    await fs.writeFile(path.join(root, 'sha256', ref.sha256.slice(0, 2), `${ref.sha256}.meta.json`), '{"sha256":"nope"');
    await assert.rejects(store.read(ref.sha256), isCode(ErrorCode.ArtifactIntegrity));
  });

  it('should reject bad sha256 arguments, including path traversal', async () => {
    const good = sha(Buffer.from('x'));
    const bad = ['../../etc/passwd', '', good.toUpperCase(), good.slice(1), `${good}0`, `../${good.slice(3)}`, `${good.slice(0, 63)}/`, `${good.slice(0, 62)}\0a`];
    for (const id of bad) {
      await assert.rejects(store.has(id), isCode(ErrorCode.InvalidParams), JSON.stringify(id));
      await assert.rejects(store.stat(id), isCode(ErrorCode.InvalidParams), JSON.stringify(id));
      await assert.rejects(store.read(id), isCode(ErrorCode.InvalidParams), JSON.stringify(id));
    }
    const ref = await store.put(Buffer.from('x'), 'text/plain');
    assert.throws(() => store.absolutePath({ ...ref, sha256: '../../etc/passwd' }), isCode(ErrorCode.InvalidParams));
    assert.throws(() => store.absolutePath({ ...ref, path: '../../etc/passwd' }), isCode(ErrorCode.InvalidParams));
    assert.throws(() => store.absolutePath({ ...ref, mime: 'text/plain/../../x' }), isCode(ErrorCode.InvalidParams));
  });

  it('should let concurrent puts of the same bytes in one process all succeed with one stored copy', async () => {
    const bytes = Buffer.alloc(256 * 1024, 7);
    const refs = await Promise.all(Array.from({ length: 16 }, () => store.put(bytes, 'image/png')));
    for (const ref of refs) assert.deepEqual(ref, refs[0]);
    assert.equal((await listFiles(root)).length, 2);
    assert.deepEqual((await store.read(sha(bytes))).bytes, bytes);
  });

  it('should let concurrent puts of the same bytes from several processes all succeed', async () => {
    // Children load the compiled store (dist/store/ArtifactStore.js, beside dist/test) and put the
    // same 12 payloads at once; every process must succeed and agree on every ref.
    const modulePath = path.resolve(__dirname, '../../store/ArtifactStore.js');
    const script = `
      const { ArtifactStore } = require(${JSON.stringify(modulePath)});
      (async () => {
        const store = await ArtifactStore.open(process.argv[1]);
        const payloads = Array.from({ length: 12 }, (_, i) => Buffer.alloc(128 * 1024 + i, i + 1));
        const refs = await Promise.all(payloads.map((p) => store.put(p, 'image/png')));
        process.stdout.write(JSON.stringify(refs));
      })().catch((err) => { console.error(err); process.exit(1); });`;
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script, root], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
      });
    const outputs = await Promise.all(Array.from({ length: 4 }, run));
    for (const out of outputs) assert.equal(out, outputs[0]);
    const refs = JSON.parse(outputs[0]!) as Array<{ sha256: string }>;
    assert.equal(refs.length, 12);
    for (const ref of refs) await store.read(ref.sha256);
    const files = await listFiles(root);
    assert.equal(files.length, 24, files.join('\n'));
  });
});
