import assert from 'node:assert/strict';
import { normaliseLineEnds, stripUnsafeText, unsafeCharacter, unsafeTextReason } from '../../core/text-hygiene';

const UNSAFE: Array<[string, string]> = [
  ['NUL', '\u0000'], ['BEL', '\u0007'], ['backspace', '\b'], ['vertical tab', '\u000b'], ['form feed', '\f'], ['carriage return', '\r'],
  ['ESC (terminal escape)', '\u001b[2J'], ['DEL', '\u007f'], ['C1 CSI', '\u009b'], ['C1 NEL', '\u0085'],
  ['LRE', '\u202a'], ['RLE', '\u202b'], ['PDF', '\u202c'], ['LRO', '\u202d'], ['RLO', '\u202e'],
  ['LRI', '\u2066'], ['RLI', '\u2067'], ['FSI', '\u2068'], ['PDI', '\u2069'],
  ['line separator', '\u2028'], ['paragraph separator', '\u2029'], ['lone high surrogate', '\ud83d'], ['lone low surrogate', '\udc4d'],
];

describe('core/text-hygiene', () => {
  it('should find control, bidi-override and isolate characters, and lone surrogates, naming the first', () => {
    for (const [name, ch] of UNSAFE) {
      const found = unsafeCharacter(`fine ${ch} text`);
      assert.equal(found?.index, 5, name);
      assert.match(unsafeTextReason(`fine ${ch} text`) ?? '', /^comment: control and bidirectional-override characters are not allowed \(U\+[0-9A-F]{4} at position 5\)$/, name);
    }
    assert.equal(unsafeCharacter('\u202eevil')?.codePoint, 'U+202E');
  });

  it('should allow tabs, line feeds, direction marks, zero-width joiners and emoji', () => {
    for (const text of ['two\nlines\twith a tab', 'שלום \u200f עולם', 'مرحبا\u061c', 'a\u200eb', '👩‍👩‍👧 family', '👍🏽', 'ZWSP\u200bhere', '']) {
      assert.equal(unsafeCharacter(text), undefined, JSON.stringify(text));
      assert.equal(unsafeTextReason(text), undefined);
      assert.equal(stripUnsafeText(text), text);
    }
  });

  it('should strip every unsafe character and keep the rest', () => {
    assert.equal(stripUnsafeText('\u202e👍 B\u202c\u001b[31m\r'), '👍 B[31m');
    assert.equal(stripUnsafeText(UNSAFE.map(([, ch]) => ch).join('x')), UNSAFE.map(([, ch]) => ch.slice(1)).join('x')); // the escape's "[2J" is text
  });

  it('should read CR LF as a line feed before the check, and nothing else', () => {
    assert.equal(normaliseLineEnds('a\r\nb\rc\n'), 'a\nb\rc\n');
    assert.equal(unsafeCharacter(normaliseLineEnds('pasted\r\nfrom windows')), undefined);
  });
});
