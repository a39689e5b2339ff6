/**
 * `prefline import`: a folder of images and texts into the artifact store, content-addressed, with a
 * reference per file in a form lifecycle inputs take; files it cannot store refused one by one while
 * the rest go in; and the command as typed (exit codes, formats, stderr).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { candidateLine, formatImported, importFolder } from '../../cli/import';
import { ArtifactStore } from '../../store/ArtifactStore';
import { validateLifecycleInput } from '../../workflows/input';
import { discPng } from '../helpers/fake-directory';
import { runCli } from '../helpers/processes';

describe('prefline import', function () {
  this.timeout(60_000);
  let dir: string;
  let folder: string;
  let artifacts: ArtifactStore;
  const red = discPng([200, 40, 40]);
  const blue = discPng([40, 40, 200]);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-import-cli-'));
    folder = path.join(dir, 'seed');
    fs.mkdirSync(path.join(folder, 'flux'), { recursive: true });
    fs.mkdirSync(path.join(folder, 'sdxl'));
    fs.writeFileSync(path.join(folder, 'flux', '001.png'), red);
    fs.writeFileSync(path.join(folder, 'flux', '002.PNG'), blue);
    fs.writeFileSync(path.join(folder, 'sdxl', '001.png'), red); // the same bytes as flux/001.png
    fs.writeFileSync(path.join(folder, 'sdxl', 'caption.txt'), 'A fox, in the snow.\n');
    fs.writeFileSync(path.join(folder, 'sdxl', 'fake.png'), 'not a png at all');
    fs.writeFileSync(path.join(folder, 'sdxl', 'tool.exe'), Buffer.from([0x4d, 0x5a, 0x90, 0x00]));
    fs.writeFileSync(path.join(folder, 'sdxl', 'huge.txt'), 'x'.repeat(5000));
    fs.writeFileSync(path.join(folder, 'sdxl', '.DS_Store'), Buffer.from([0, 0, 0, 1]));
    fs.symlinkSync('/etc/hostname', path.join(folder, 'sdxl', 'link.txt'));
    artifacts = await ArtifactStore.open(path.join(dir, 'artifacts'));
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const storedFiles = () => fs.readdirSync(artifacts.rootDir, { recursive: true }).filter((f) => /\.(png|txt)$/.test(String(f))).length;

  it('should store every image and text once, content-addressed, labelled by their folder, and refuse the rest one by one', async () => {
    const { imported, refused } = await importFolder(artifacts, folder, { recursive: true, maxBytes: 4096 });
    const sha = async (bytes: Uint8Array, mime: string) => `sha256:${(await artifacts.put(bytes, mime)).sha256}`;
    assert.deepEqual(imported.map((f) => [f.path, f.model, f.kind, f.mime]), [
      ['flux/001.png', 'flux', 'image', 'image/png'],
      ['flux/002.PNG', 'flux', 'image', 'image/png'],
      ['sdxl/001.png', 'sdxl', 'image', 'image/png'],
      ['sdxl/caption.txt', 'sdxl', 'text', 'text/plain; charset=utf-8'],
    ]);
    assert.equal(imported[0]!.ref, imported[2]!.ref, 'the same bytes, the same reference');
    assert.equal(imported[0]!.ref, await sha(red, 'image/png'));
    assert.equal(imported[1]!.size, blue.length);
    assert.equal(storedFiles(), 3, 'two images and a text, each once');
    assert.deepEqual(refused.map((r) => r.path), ['sdxl/fake.png', 'sdxl/huge.txt', 'sdxl/link.txt', 'sdxl/tool.exe']);
    assert.match(refused[0]!.reason, /its bytes are text\/plain; charset=utf-8, not image\/png as its name says/);
    assert.match(refused[1]!.reason, /5000 bytes is larger than the cap of 4096 bytes/);
    assert.match(refused[2]!.reason, /symbolic link \(not followed/);
    assert.match(refused[3]!.reason, /unknown type "\.exe"/);
  });

  it('should import only the folder itself without --recursive, under --model if given', async () => {
    fs.writeFileSync(path.join(folder, 'top.png'), blue);
    const { imported, refused } = await importFolder(artifacts, folder, { model: 'mine', maxBytes: 4096 });
    assert.deepEqual(imported.map((f) => [f.path, f.model]), [['top.png', 'mine']]);
    assert.deepEqual(refused, []);
    await assert.rejects(importFolder(artifacts, path.join(folder, 'top.png'), { maxBytes: 4096 }), /is not a folder/);
  });

  it('should print lines a lifecycle input takes as brought candidates, and CSV a spreadsheet cannot run', async () => {
    fs.writeFileSync(path.join(folder, 'flux', '=cmd.png'), blue);
    const { imported } = await importFolder(artifacts, path.join(folder, 'flux'), { maxBytes: 4096 });
    const lines = formatImported(imported, 'jsonl').split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0]!), { ref: imported[0]!.ref, model: 'flux', kind: 'image', metadata: { path: '001.png', mime: 'image/png', size: red.length } });
    const input = { task: 'compare', prompt: 'a fox', candidates: lines.slice(0, 2).map((l) => JSON.parse(l) as unknown) };
    const validated = validateLifecycleInput(input, Date.now());
    assert.ok(validated.ok, JSON.stringify(validated));
    assert.equal(candidateLine(imported[2]!), lines[2]);
    const csv = formatImported(imported, 'csv').split('\n');
    assert.equal(csv[0], 'ref,path,model,kind,mime,size');
    assert.match(csv[3]!, /^sha256:[0-9a-f]{64},'=cmd\.png,flux,image,image\/png,\d+$/);
  });

  it('should exit 3 naming each refused file on stderr, print the imported ones, and exit 2 for a bad option', () => {
    const env = { PREFLINE_DATA_DIR: path.join(dir, 'data'), PREFLINE_DOWNLOAD_MAX_BYTES: '4096' };
    const result = runCli(['import', folder, '--recursive', '--format', 'csv'], env);
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 5, result.stdout);
    assert.match(result.stderr, /refused sdxl\/tool\.exe: unknown type/);
    assert.match(result.stderr, /4 imported, 4 refused/);
    assert.ok(fs.readdirSync(path.join(dir, 'data', 'artifacts'), { recursive: true }).some((f) => String(f).endsWith('.png')));
    const clean = runCli(['import', path.join(folder, 'flux'), '--format', 'jsonl'], env);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout.trim().split('\n').length, 2);
    assert.equal(runCli(['import', folder, '--format', 'xml'], env).code, 2);
    assert.equal(runCli(['import', folder, '--force'], env).code, 2);
  });
});
