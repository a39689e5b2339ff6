import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { crc32, inflateSync } from 'node:zlib';
import { ErrorCode, PreflineError, UnknownModelError } from '../../../core/errors';
import { createDemoBackend, DEMO_MODELS, TEXT_PLACEHOLDER_PREFIX } from '../../../connectors/inference/demo';
import { InferenceRegistry } from '../../../connectors/inference/registry';
import type { GenerateRequest, InferenceBackend } from '../../../connectors/inference/types';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  chunkTypes: string[];
  text: Record<string, string>;
  rawLength: number;
  pixels: Buffer;
}

/** An independent PNG reader: checks structure and CRCs (with zlib's crc32), inflates and unfilters. */
function decodePng(buf: Buffer): DecodedPng {
  assert.deepEqual(buf.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'PNG signature');
  let offset = 8;
  const chunkTypes: string[] = [];
  const text: Record<string, string> = {};
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    const crc = buf.readUInt32BE(offset + 8 + length);
    assert.equal(crc, crc32(buf.subarray(offset + 4, offset + 8 + length)), `CRC of ${type} chunk`);
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    if (type === 'tEXt') {
      const nul = data.indexOf(0);
      text[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    }
    offset += 12 + length;
  }
  assert.equal(offset, buf.length, 'no trailing bytes');
  assert.equal(chunkTypes[0], 'IHDR');
  assert.equal(chunkTypes.at(-1), 'IEND');
  assert.ok(ihdr && ihdr.length === 13);
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  assert.equal(ihdr[8], 8, 'bit depth');
  assert.ok(ihdr[9] === 2 || ihdr[9] === 6, 'colour type RGB or RGBA');
  assert.deepEqual([...ihdr.subarray(10)], [0, 0, 0], 'compression, filter, interlace');
  const channels = ihdr[9] === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));

  // Undo the per-row filters (PNG spec §9) so tests can look at pixels.
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  if (raw.length === height * (1 + stride)) {
    for (let y = 0; y < height; y++) {
      const filter = raw[y * (1 + stride)]!;
      assert.ok(filter <= 4, `filter type ${filter}`);
      for (let i = 0; i < stride; i++) {
        const x = raw[y * (1 + stride) + 1 + i]!;
        const a = i >= channels ? pixels[y * stride + i - channels]! : 0;
        const b = y > 0 ? pixels[(y - 1) * stride + i]! : 0;
        const c = i >= channels && y > 0 ? pixels[(y - 1) * stride + i - channels]! : 0;
        const p = a + b - c;
        const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
        const predictor = [0, a, b, (a + b) >> 1, paeth][filter]!;
        pixels[y * stride + i] = (x + predictor) & 0xff;
      }
    }
  }
  return { width, height, channels, chunkTypes, text, rawLength: raw.length, pixels };
}

function request(model: string, seed: number, prompt = 'a red fox in the snow', extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return { prompt, model, params: {}, seed, ...extra };
}

describe('demo inference backend', () => {
  const backend = createDemoBackend();

  it('should be named demo and list its models', () => {
    assert.equal(backend.name, 'demo');
    assert.deepEqual([...DEMO_MODELS], ['shapes', 'gradient', 'text']);
  });

  for (const model of DEMO_MODELS) {
    it(`should produce byte-identical ${model} output for the same prompt, seed and model`, async () => {
      const a = await backend.generate(request(model, 42));
      const b = await createDemoBackend().generate(request(model, 42));
      assert.equal(sha(a.bytes), sha(b.bytes));
      assert.equal(a.placeholder, true);
      assert.deepEqual(a.provenance, { version: 'demo-1', generator: model });
    });

    it(`should produce different ${model} output for different seeds`, async () => {
      const hashes = new Set<string>();
      for (let seed = 0; seed < 6; seed++) hashes.add(sha((await backend.generate(request(model, seed))).bytes));
      assert.equal(hashes.size, 6);
    });

    it(`should produce different ${model} output for different prompts`, async () => {
      const prompts = ['a red fox in the snow', 'a red fox in the snow!', 'a lighthouse at night', ''];
      const hashes = new Set<string>();
      for (const prompt of prompts) hashes.add(sha((await backend.generate(request(model, 7, prompt))).bytes));
      assert.equal(hashes.size, prompts.length);
    });
  }

  it('should not give the same prompt and seed the same bytes on different models', async () => {
    const shapes = await backend.generate(request('shapes', 1));
    const gradient = await backend.generate(request('gradient', 1));
    assert.notEqual(sha(shapes.bytes), sha(gradient.bytes));
  });

  for (const model of ['shapes', 'gradient'] as const) {
    it(`should emit a valid, labelled ${model} PNG`, async () => {
      const out = await backend.generate(request(model, 3));
      assert.equal(out.kind, 'image');
      assert.equal(out.mime, 'image/png');
      assert.equal(out.text, undefined);
      const png = decodePng(Buffer.from(out.bytes));
      assert.equal(png.width, 256);
      assert.equal(png.height, 256);
      assert.equal(png.rawLength, png.height * (1 + png.width * png.channels));
      assert.equal(png.text['Comment'], 'Prefline demo placeholder - not a model output');
      assert.ok(png.chunkTypes.indexOf('tEXt') < png.chunkTypes.indexOf('IDAT'));

      // The bottom band holds the white label on a darkened strip; the rest is a real picture.
      const px = (x: number, y: number): number[] => [...png.pixels.subarray((y * png.width + x) * png.channels, (y * png.width + x) * png.channels + 3)];
      let white = 0;
      for (let y = png.height - 22; y < png.height; y++) {
        for (let x = 0; x < png.width; x++) if (px(x, y).every((v) => v === 255)) white++;
      }
      assert.ok(white > 200, `label pixels: ${white}`);
      const colours = new Set<string>();
      for (let y = 0; y < png.height - 22; y += 4) for (let x = 0; x < png.width; x += 4) colours.add(px(x, y).join());
      assert.ok(colours.size > 20, `distinct colours: ${colours.size}`);
    });
  }

  it('should generate a 256×256 image well under 50 ms', async () => {
    await backend.generate(request('shapes', 0)); // warm up
    for (const model of ['shapes', 'gradient']) {
      const runs = 10;
      const start = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) await backend.generate(request(model, 100 + i));
      const avgMs = Number(process.hrtime.bigint() - start) / 1e6 / runs;
      assert.ok(avgMs < 50, `${model}: ${avgMs.toFixed(1)} ms per image`);
    }
  });

  it('should produce short placeholder text that starts with the placeholder label', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const out = await backend.generate(request('text', seed, 'Write a haiku about autumn leaves'));
      assert.equal(out.kind, 'text');
      assert.equal(out.mime, 'text/plain; charset=utf-8');
      const text = out.text ?? '';
      assert.ok(text.startsWith('[demo placeholder] '), text);
      assert.equal(TEXT_PLACEHOLDER_PREFIX, '[demo placeholder] ');
      assert.equal(Buffer.from(out.bytes).toString('utf8'), text);
      const sentences = text.slice(TEXT_PLACEHOLDER_PREFIX.length).split(/(?<=\.)\s+/);
      assert.ok(sentences.length >= 1 && sentences.length <= 3, text);
      assert.ok(text.includes('haiku'), 'mentions the prompt');
    }
  });

  it('should reject an unknown model with UnknownModelError', async () => {
    await assert.rejects(backend.generate(request('sdxl', 1)), (err: unknown) => {
      assert.ok(err instanceof UnknownModelError);
      assert.equal(err.code, ErrorCode.UnknownModel);
      assert.equal(err.retryable, false);
      assert.match(err.message, /demo:shapes/);
      return true;
    });
  });

  it('should reject a request whose signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(backend.generate(request('shapes', 1, 'x', { signal: controller.signal })), (err: unknown) => {
      assert.ok(err instanceof PreflineError);
      assert.equal(err.code, ErrorCode.InferenceCanceled);
      return true;
    });
    // A live signal does not get in the way.
    const live = await backend.generate(request('text', 1, 'x', { signal: new AbortController().signal }));
    assert.equal(live.placeholder, true);
  });
});

describe('InferenceRegistry', () => {
  const fake = (name: string): InferenceBackend => ({
    name,
    generate: () => Promise.reject(new Error('not used')),
  });

  it('should resolve a model reference by splitting at the first colon', () => {
    const demo = createDemoBackend();
    const replicate = fake('replicate');
    const registry = new InferenceRegistry([demo, replicate]);
    assert.deepEqual(registry.resolve('demo:shapes'), { backend: demo, model: 'shapes' });
    const resolved = registry.resolve('replicate:owner/name:version');
    assert.equal(resolved.backend, replicate);
    assert.equal(resolved.model, 'owner/name:version');
  });

  it('should reject an unknown backend and list the available ones', () => {
    const registry = new InferenceRegistry([createDemoBackend(), fake('openai')]);
    assert.throws(() => registry.resolve('replicate:owner/name'), (err: unknown) => {
      assert.ok(err instanceof UnknownModelError);
      assert.equal(err.code, ErrorCode.UnknownModel);
      assert.match(err.message, /"replicate"/);
      assert.match(err.message, /available backends: demo, openai/);
      return true;
    });
  });

  it('should reject references that are not backend:model', () => {
    const registry = new InferenceRegistry([createDemoBackend()]);
    for (const ref of ['shapes', ':shapes', 'demo:', '']) {
      assert.throws(() => registry.resolve(ref), UnknownModelError, JSON.stringify(ref));
    }
  });

  it('should refuse two backends with the same name', () => {
    assert.throws(() => new InferenceRegistry([fake('demo'), fake('demo')]), /registered twice/);
  });
});
