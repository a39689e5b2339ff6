/**
 * Placeholder images for the demo backend: shapes or gradients whose colours and layout come
 * from the seeded RNG, with a "DEMO PLACEHOLDER" band so nobody mistakes them for model output.
 * Integer and basic IEEE arithmetic only, so pixels are identical on every platform.
 */
import type { RasterImage } from './png';
import type { Rng } from './rng';

type Rgb = readonly [number, number, number];

class Canvas implements RasterImage {
  readonly channels = 3 as const;
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 3);
  }

  /** Alpha-blends `color` over pixel (x, y); alpha 0–255. Out-of-bounds pixels are ignored. */
  blend(x: number, y: number, color: Rgb, alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    const d = this.data;
    for (let k = 0; k < 3; k++) d[i + k] = ((color[k]! * alpha + d[i + k]! * (255 - alpha) + 127) / 255) | 0;
  }

  set(x: number, y: number, color: Rgb): void {
    const i = (y * this.width + x) * 3;
    this.data[i] = color[0];
    this.data[i + 1] = color[1];
    this.data[i + 2] = color[2];
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** HSL (degrees, percent, percent) to 8-bit RGB. */
function hsl(h: number, s: number, l: number): Rgb {
  const sat = s / 100;
  const lig = l / 100;
  const a = sat * Math.min(lig, 1 - lig);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (lig - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

function randomColor(rng: Rng, lightMin = 30, lightMax = 70): Rgb {
  return hsl(rng.int(0, 359), rng.int(40, 90), rng.int(lightMin, lightMax));
}

function lerp(a: Rgb, b: Rgb, t: number): Rgb {
  return [Math.round(a[0] + (b[0] - a[0]) * t), Math.round(a[1] + (b[1] - a[1]) * t), Math.round(a[2] + (b[2] - a[2]) * t)];
}

function fillRect(c: Canvas, x0: number, y0: number, w: number, h: number, color: Rgb, alpha: number): void {
  for (let y = Math.max(0, y0); y < Math.min(c.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(c.width, x0 + w); x++) c.blend(x, y, color, alpha);
  }
}

function fillCircle(c: Canvas, cx: number, cy: number, r: number, color: Rgb, alpha: number): void {
  for (let y = Math.max(0, cy - r); y <= Math.min(c.height - 1, cy + r); y++) {
    for (let x = Math.max(0, cx - r); x <= Math.min(c.width - 1, cx + r); x++) {
      if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) c.blend(x, y, color, alpha);
    }
  }
}

type Point = readonly [number, number];

function fillTriangle(c: Canvas, p: Point, q: Point, r: Point, color: Rgb, alpha: number): void {
  // Edge functions on integer coordinates: inside when all three share a sign.
  const edge = (a: Point, b: Point, x: number, y: number): number => (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
  const minX = Math.max(0, Math.min(p[0], q[0], r[0]));
  const maxX = Math.min(c.width - 1, Math.max(p[0], q[0], r[0]));
  const minY = Math.max(0, Math.min(p[1], q[1], r[1]));
  const maxY = Math.min(c.height - 1, Math.max(p[1], q[1], r[1]));
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      const w0 = edge(q, r, x, y);
      const w1 = edge(r, p, x, y);
      const w2 = edge(p, q, x, y);
      if ((w0 >= 0 && w1 >= 0 && w2 >= 0) || (w0 <= 0 && w1 <= 0 && w2 <= 0)) c.blend(x, y, color, alpha);
    }
  }
}

// 5×7 glyphs, one 5-bit row per entry (MSB = leftmost pixel); only the letters the label needs.
const GLYPHS: Record<string, readonly number[]> = {
  ' ': [0, 0, 0, 0, 0, 0, 0],
  A: [0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
  D: [0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
  H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
};

export const DEMO_LABEL = 'DEMO PLACEHOLDER';

/** Darkened band along the bottom edge with the label in white, at the largest scale (≤ 3) that fits. */
function drawPlaceholderBand(c: Canvas, label = DEMO_LABEL): void {
  const pad = 4;
  const advance = 6; // 5 px glyph + 1 px spacing
  const scale = clamp(Math.floor((c.width - 2 * pad) / (label.length * advance)), 1, 3);
  const bandH = 7 * scale + 2 * pad;
  const top = c.height - bandH;
  fillRect(c, 0, top, c.width, bandH, [0, 0, 0], 170);
  const white: Rgb = [255, 255, 255];
  for (let i = 0; i < label.length; i++) {
    const glyph = GLYPHS[label[i]!] ?? GLYPHS[' ']!;
    const gx = pad + i * advance * scale;
    for (let row = 0; row < 7; row++) {
      for (let col = 0; col < 5; col++) {
        if (!((glyph[row]! >> (4 - col)) & 1)) continue;
        fillRect(c, gx + col * scale, top + pad + row * scale, scale, scale, white, 255);
      }
    }
  }
}

/** A two-tone vertical background with 5–9 translucent circles, rectangles and triangles. */
export function renderShapes(rng: Rng, size: number): RasterImage {
  const c = new Canvas(size, size);
  const top = randomColor(rng, 75, 92);
  const bottom = randomColor(rng, 60, 85);
  for (let y = 0; y < size; y++) {
    const row = lerp(top, bottom, y / (size - 1));
    for (let x = 0; x < size; x++) c.set(x, y, row);
  }
  const count = rng.int(5, 9);
  for (let n = 0; n < count; n++) {
    const color = randomColor(rng);
    const alpha = rng.int(150, 235);
    const cx = rng.int(0, size - 1);
    const cy = rng.int(0, size - 1);
    const extent = rng.int(size >> 4, size >> 2);
    switch (rng.int(0, 2)) {
      case 0:
        fillCircle(c, cx, cy, extent, color, alpha);
        break;
      case 1:
        fillRect(c, cx - extent, cy - rng.int(size >> 4, size >> 2), 2 * extent, 2 * rng.int(size >> 4, size >> 2), color, alpha);
        break;
      default: {
        // One vertex per region (top, lower left, lower right) so triangles are never slivers.
        const top: Point = [cx + rng.int(-extent, extent), cy - rng.int(extent, 2 * extent)];
        const left: Point = [cx - rng.int(extent, 2 * extent), cy + rng.int(0, 2 * extent)];
        const right: Point = [cx + rng.int(extent, 2 * extent), cy + rng.int(0, 2 * extent)];
        fillTriangle(c, top, left, right, color, alpha);
      }
    }
  }
  drawPlaceholderBand(c);
  return c;
}

/** A smooth 3–5 stop gradient, linear at a random angle or radial from a random centre. */
export function renderGradient(rng: Rng, size: number): RasterImage {
  const c = new Canvas(size, size);
  const stopCount = rng.int(3, 5);
  // Evenly spaced stops with jitter: stops never bunch up into a hard edge.
  const gap = Math.floor(1000 / (stopCount - 1));
  const jitter = Math.floor(gap / 4);
  const positions = Array.from({ length: stopCount }, (_, i) =>
    i === 0 ? 0 : i === stopCount - 1 ? 1 : (i * gap + rng.int(-jitter, jitter)) / 1000,
  );
  const colors = positions.map(() => randomColor(rng, 25, 80));

  let at: (x: number, y: number) => number;
  if (rng.int(0, 2) > 0) {
    // Linear: project onto a random direction, normalised so the corners map to 0 and 1.
    let dx = rng.int(-100, 100);
    const dy = rng.int(-100, 100);
    if (dx === 0 && dy === 0) dx = 1;
    const corners = [0, dx * (size - 1), dy * (size - 1), (dx + dy) * (size - 1)];
    const lo = Math.min(...corners);
    const span = Math.max(...corners) - lo;
    at = (x, y) => (x * dx + y * dy - lo) / span;
  } else {
    const cx = rng.int(0, size - 1);
    const cy = rng.int(0, size - 1);
    const far = Math.max(cx, size - 1 - cx) ** 2 + Math.max(cy, size - 1 - cy) ** 2;
    at = (x, y) => Math.sqrt(((x - cx) ** 2 + (y - cy) ** 2) / far);
  }

  // Colour lookup over 4096 steps of t: far finer than 8-bit colour, and keeps the pixel loop cheap.
  const steps = 4096;
  const lut: Rgb[] = [];
  for (let i = 0, s = 1; i < steps; i++) {
    const t = i / (steps - 1);
    while (s < positions.length - 1 && t > positions[s]!) s++;
    const p0 = positions[s - 1]!;
    const p1 = positions[s]!;
    const u = p1 > p0 ? (t - p0) / (p1 - p0) : 0;
    lut.push(lerp(colors[s - 1]!, colors[s]!, u * u * (3 - 2 * u))); // smoothstep between stops
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) c.set(x, y, lut[Math.round(clamp(at(x, y), 0, 1) * (steps - 1))]!);
  }
  drawPlaceholderBand(c);
  return c;
}
