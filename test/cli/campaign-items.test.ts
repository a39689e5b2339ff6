/**
 * `prefline campaign start`'s item files beyond CSV and JSON Lines (cli/campaign-items.ts): parquet with
 * the CSV's columns (written here by DuckDB, read by hyparquet), bad rows named by row and field, and
 * generate mode (prompts plus --models) for compare and thumbs, refused when a file also brings candidates.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsvItems, parseJsonlItems, parseParquetItems, parsePromptLines } from '../../cli/campaign-items';
import { campaignPlan } from '../helpers/campaign-cli';

const NOW = Date.now();
const DEADLINE = NOW + 3 * 24 * 3600 * 1000;
const AB = ['demo:shapes', 'demo:gradient'];

const plan = (input: Record<string, unknown> = {}) => campaignPlan(NOW, input);

describe('prefline campaign: parquet and generate-mode item files', () => {
  let dir: string;
  let duckdb: DuckDBInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-campaign-items-'));
    duckdb = await DuckDBInstance.create(':memory:');
  });
  after(() => {
    duckdb?.closeSync();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A parquet file of `select`'s rows, written by DuckDB (`options` e.g. COMPRESSION gzip). */
  async function parquet(name: string, select: string, options = ''): Promise<Uint8Array> {
    const file = join(dir, name);
    const connection = await duckdb.connect();
    try {
      await connection.run(`COPY (${select}) TO '${file}' (FORMAT parquet${options})`);
    } finally {
      connection.closeSync();
    }
    return readFileSync(file);
  }

  it('should map parquet rows to compare items exactly as CSV rows, whatever the compression', async () => {
    const select = `SELECT * FROM (VALUES
      ('a fox, in snow', 'images/a/1.png', 'sha256:${'ab'.repeat(32)}', 'flux', 'sdxl', NULL),
      ('an owl', 'https://cdn.example.org/1.png', 'images/b/2.png', NULL, NULL, 'Which owl is rounder?')
    ) t("Prompt ", image1, Image2, model1, model2, question)`;
    const csv = 'prompt,image1,image2,model1,model2,question\n"a fox, in snow",images/a/1.png,sha256:' + 'ab'.repeat(32) + ',flux,sdxl,\n'
      + 'an owl,https://cdn.example.org/1.png,images/b/2.png,,,Which owl is rounder?\n';
    const fromCsv = parseCsvItems(csv, plan(), DEADLINE, NOW);
    assert.ok(fromCsv.ok, JSON.stringify(fromCsv));
    for (const [name, options] of [['snappy.parquet', ''], ['gzip.parquet', ', COMPRESSION gzip'], ['plain.parquet', ', COMPRESSION uncompressed']]) {
      const result = await parseParquetItems(await parquet(name!, select, options), plan(), DEADLINE, NOW);
      assert.deepEqual(result, fromCsv, name);
    }
    assert.deepEqual(fromCsv.items[1], {
      prompt: 'an owl', question: 'Which owl is rounder?',
      candidates: [{ ref: 'https://cdn.example.org/1.png', model: 'image1', kind: 'image' }, { ref: 'file:images/b/2.png', model: 'image2', kind: 'image' }],
    });
    const thumbs = await parseParquetItems(await parquet('thumbs.parquet', `SELECT 'a kind reply' AS prompt, 'hello there' AS text, 'm1' AS model`), plan({ task: 'thumbs' }), DEADLINE, NOW);
    assert.deepEqual(thumbs, { ok: true, items: [{ prompt: 'a kind reply', candidates: [{ text: 'hello there', model: 'm1' }] }] });
  });

  it('should name every bad parquet row by row number (from 1) and column, and refuse unknown columns, non-text cells and broken files', async () => {
    const rows = await parseParquetItems(await parquet('bad.parquet', `SELECT * FROM (VALUES
      ('ok', 'a.png', 'b.png'), ('', 'a.png', 'b.png'), ('half', 'a.png', NULL), ('escape', '../../etc/passwd', 'b.png')
    ) t(prompt, image1, image2)`), plan(), DEADLINE, NOW);
    assert.equal(rows.ok, false);
    const errors = rows.ok ? [] : rows.errors;
    assert.ok(errors.some((e) => e.startsWith('row 2: prompt: required')), errors.join('\n'));
    assert.ok(errors.includes('row 3: image2: empty'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('row 4: image1')), errors.join('\n'));
    assert.equal(errors.some((e) => e.startsWith('row 1')), false, errors.join('\n'));

    assert.deepEqual(await parseParquetItems(await parquet('unknown.parquet', `SELECT 'x' AS prompt, 'y' AS picture`), plan(), DEADLINE, NOW), {
      ok: false, errors: ['columns: unknown columns picture; a compare file has prompt, image1, image2, text1, text2, model1, model2, question'],
    });
    // Images as Hugging Face datasets store them (a struct of bytes and path) are not cells Prefline takes.
    const struct = await parseParquetItems(await parquet('struct.parquet', `SELECT * FROM (VALUES
      ('p1', {'bytes': 'x'::BLOB, 'path': 'a.png'}, 'b.png'), ('', {'bytes': ''::BLOB, 'path': 'c.png'}, 'b.png')
    ) t(prompt, image1, image2)`), plan(), DEADLINE, NOW);
    assert.deepEqual(struct, {
      ok: false, errors: [
        'row 1: image1: must be text (a path, an https URL or a sha256: artifact), not a struct',
        'row 2: image1: must be text (a path, an https URL or a sha256: artifact), not a struct',
      ],
    });
    const broken = await parseParquetItems(new TextEncoder().encode('prompt,text1,text2\nx,y,z\n'), plan(), DEADLINE, NOW);
    assert.ok(!broken.ok && broken.errors.length === 1 && broken.errors[0]!.startsWith('cannot read it as parquet'), JSON.stringify(broken));
    assert.deepEqual(await parseParquetItems(await parquet('empty.parquet', `SELECT 'x' AS prompt, 'a' AS text1, 'b' AS text2 WHERE false`), plan(), DEADLINE, NOW), {
      ok: false, errors: ['the file holds no items'],
    });
  });

  it('should generate compare items from prompts and two models, from CSV, parquet, JSON Lines and text lines', async () => {
    const expected = [{ prompt: 'a red cube', models: AB }, { prompt: 'a blue sphere', models: AB, question: 'Which is rounder?' }];
    const csv = parseCsvItems('prompt,question\na red cube,\na blue sphere,Which is rounder?\n', plan(), DEADLINE, NOW, { models: AB });
    assert.deepEqual(csv, { ok: true, items: expected });
    const fromParquet = await parseParquetItems(
      await parquet('prompts.parquet', `SELECT * FROM (VALUES ('a red cube', NULL), ('a blue sphere', 'Which is rounder?')) t(prompt, question)`), plan(), DEADLINE, NOW, { models: AB },
    );
    assert.deepEqual(fromParquet, csv);
    const jsonl = parseJsonlItems('{"prompt":"a red cube"}\n{"prompt":"a blue sphere","question":"Which is rounder?"}\n', plan(), DEADLINE, NOW, { models: AB });
    assert.deepEqual(jsonl, { ok: true, items: [expected[0], { prompt: 'a blue sphere', question: 'Which is rounder?', models: AB }] });
    assert.deepEqual(parsePromptLines('a red cube\n\n  \nan owl\n', plan(), DEADLINE, NOW, { models: AB }), {
      ok: true, items: [{ prompt: 'a red cube', models: AB }, { prompt: 'an owl', models: AB }],
    });
    // Every generated item is checked as its lifecycle will check it: an unknown backend is named by line.
    const unknown = parsePromptLines('a red cube\n', plan(), DEADLINE, NOW, { models: ['nowhere:x', 'demo:shapes'] });
    assert.ok(!unknown.ok && unknown.errors.some((e) => e.startsWith('line 1: models[0]')), JSON.stringify(unknown));
    assert.deepEqual(parsePromptLines('x\n', plan(), DEADLINE, NOW, {}), { ok: false, errors: ['a file of prompts needs --models to generate the candidates from'] });
  });

  it('should generate thumbs items from one model or several', () => {
    const one = parsePromptLines('a haiku about rain\n', plan({ task: 'thumbs' }), DEADLINE, NOW, { models: ['demo:text'] });
    assert.deepEqual(one, { ok: true, items: [{ prompt: 'a haiku about rain', model: 'demo:text', candidates: 1 }] });
    const several = parseCsvItems('prompt\na haiku about rain\n', plan({ task: 'thumbs' }), DEADLINE, NOW, { models: ['demo:text', 'demo:shapes'] });
    assert.deepEqual(several, { ok: true, items: [{ prompt: 'a haiku about rain', models: ['demo:text', 'demo:shapes'] }] });
  });

  it('should refuse a file that brings candidates when --models generates them, and hint at --models for a prompts-only file', async () => {
    assert.deepEqual(parseCsvItems('prompt,text1,text2\nq,a,b\n', plan(), DEADLINE, NOW, { models: AB }), {
      ok: false,
      errors: ['line 1: columns text1, text2 bring candidates, and --models generates them: give a file of prompts (prompt, question) with --models, or drop --models'],
    });
    const fromParquet = await parseParquetItems(await parquet('mixed.parquet', `SELECT 'q' AS prompt, 'a.png' AS image`), plan({ task: 'thumbs' }), DEADLINE, NOW, { models: ['demo:text'] });
    assert.deepEqual(fromParquet, {
      ok: false, errors: ['columns: columns image bring candidates, and --models generates them: give a file of prompts (prompt) with --models, or drop --models'],
    });
    const jsonl = parseJsonlItems('{"prompt":"ok"}\n{"prompt":"p","candidates":[{"text":"a","model":"x"},{"text":"b","model":"y"}]}\n{"prompt":"p","models":["demo:a","demo:b"]}\n', plan(), DEADLINE, NOW, { models: AB });
    assert.deepEqual(jsonl, {
      ok: false, errors: [
        'line 2: candidates: the item brings its own, and --models generates them: give one or the other',
        'line 3: models: the item brings its own, and --models generates them: give one or the other',
      ],
    });
    const promptsOnly = parseCsvItems('prompt\na red cube\n', plan(), DEADLINE, NOW);
    assert.ok(!promptsOnly.ok && promptsOnly.errors[0] === 'line 2: image1/image2 or text1/text2: every row needs its two candidates (or start with --models a,b to generate them)', JSON.stringify(promptsOnly));
  });
});
