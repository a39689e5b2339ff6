/** Minimal PNG encoder (8-bit RGB/RGBA, no interlace) with tEXt chunks. Deterministic: no timestamps. */
import { deflateSync } from 'node:zlib';

export interface RasterImage {
  width: number;
  height: number;
  channels: 3 | 4;
  /** Row-major pixels, `width * height * channels` bytes. */
  data: Uint8Array;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC), as PNG chunks use. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  // The CRC covers type and data, not the length.
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes an image; `text` entries become tEXt chunks (Latin-1 keyword of 1–79 chars, Latin-1 text). */
export function encodePng(image: RasterImage, text: Record<string, string> = {}): Buffer {
  const { width, height, channels, data } = image;
  const stride = width * channels;
  if (data.length !== height * stride) throw new RangeError(`pixel buffer is ${data.length} bytes, expected ${height * stride}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 4 ? 6 : 2; // colour type: RGBA or RGB
  // bytes 10–12: deflate compression, adaptive filtering, no interlace (all 0)

  // Each scanline gets filter type 1 (Sub): cheap, and it shrinks smooth gradients a lot.
  const raw = Buffer.alloc(height * (1 + stride));
  for (let y = 0; y < height; y++) {
    const src = y * stride;
    const dst = y * (1 + stride);
    raw[dst] = 1;
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? data[src + i - channels]! : 0;
      raw[dst + 1 + i] = (data[src + i]! - left) & 0xff;
    }
  }

  const textChunks = Object.entries(text).map(([keyword, value]) => {
    if (!/^[\x20-\x7e]{1,79}$/.test(keyword)) throw new RangeError(`invalid tEXt keyword ${JSON.stringify(keyword)}`);
    return chunk('tEXt', Buffer.from(`${keyword}\0${value}`, 'latin1'));
  });
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    ...textChunks,
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
