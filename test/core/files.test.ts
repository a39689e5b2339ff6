/**
 * writeFilesAtomic: several files written for the cost of one (the artifact store's data file and its
 * sidecar), each whole under its final name, published in the order given, so a commit marker never
 * stands without what it marks, and no temp file left behind on any path.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFilesAtomic } from '../../core/files';

describe('core/files: writeFilesAtomic', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'prefline-files-'));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('should publish every file whole and leave no temp file', async () => {
    const data = path.join(dir, 'data.txt');
    const marker = path.join(dir, 'data.meta.json');
    const published = await writeFilesAtomic([
      { file: data, data: Buffer.from('the bytes'), mode: 'replace' },
      { file: marker, data: '{"ok":true}\n', mode: 'exclusive' },
    ]);
    assert.deepEqual(published, [true, true]);
    assert.equal(await fs.readFile(data, 'utf8'), 'the bytes');
    assert.equal(await fs.readFile(marker, 'utf8'), '{"ok":true}\n');
    assert.deepEqual((await fs.readdir(dir)).sort(), ['data.meta.json', 'data.txt']);
  });

  it('should replace a `replace` file but leave an existing `exclusive` one as it was, saying so', async () => {
    const data = path.join(dir, 'data.txt');
    const marker = path.join(dir, 'data.meta.json');
    await fs.writeFile(data, 'old');
    await fs.writeFile(marker, 'first writer');
    const published = await writeFilesAtomic([
      { file: data, data: 'new', mode: 'replace' },
      { file: marker, data: 'second writer', mode: 'exclusive' },
    ]);
    assert.deepEqual(published, [true, false]);
    assert.equal(await fs.readFile(data, 'utf8'), 'new');
    assert.equal(await fs.readFile(marker, 'utf8'), 'first writer');
    assert.deepEqual((await fs.readdir(dir)).sort(), ['data.meta.json', 'data.txt']);
  });

  it('should not publish a later file when an earlier one fails, and clean up every temp file', async () => {
    // A non-empty folder under the data file's name: renaming a file over it fails.
    const data = path.join(dir, 'data.txt');
    await fs.mkdir(data);
    await fs.writeFile(path.join(data, 'inside'), 'x');
    const marker = path.join(dir, 'data.meta.json');
    await assert.rejects(writeFilesAtomic([
      { file: data, data: 'bytes', mode: 'replace' },
      { file: marker, data: 'marker', mode: 'exclusive' },
    ]));
    assert.deepEqual((await fs.readdir(dir)).sort(), ['data.txt'], 'no marker and no temp file');
  });

  it('should write files in different folders, with the file mode asked for', async () => {
    await fs.mkdir(path.join(dir, 'a'));
    await fs.mkdir(path.join(dir, 'b'));
    const published = await writeFilesAtomic([
      { file: path.join(dir, 'a', 'one'), data: '1', mode: 'exclusive' },
      { file: path.join(dir, 'b', 'two'), data: '2', mode: 'exclusive' },
    ], { fileMode: 0o600 });
    assert.deepEqual(published, [true, true]);
    assert.equal(await fs.readFile(path.join(dir, 'b', 'two'), 'utf8'), '2');
    assert.equal((await fs.stat(path.join(dir, 'a', 'one'))).mode & 0o077, 0, 'the file mode is applied');
  });
});
