import assert from 'node:assert/strict';
import type http from 'node:http';
import { Readable } from 'node:stream';
import { HttpError, checkJsonType, checkSameOrigin, decodeParam, readBody, readJsonObject } from '../../core/http';

/** A request stand-in: the body's chunks and the headers. */
function request(chunks: string[], headers: http.IncomingHttpHeaders = {}): http.IncomingMessage {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { headers }) as unknown as http.IncomingMessage;
}

async function httpError(promise: Promise<unknown> | (() => unknown)): Promise<HttpError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected an HttpError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected an HttpError');
}

describe('core/http', () => {
  describe('readBody', () => {
    it('should return the whole body when it fits', async () => {
      assert.equal((await readBody(request(['ab', 'cd']), 4)).toString(), 'abcd');
    });

    it('should refuse a declared length over the limit before reading, and a longer stream while reading', async () => {
      const declared = await httpError(readBody(request(['x'], { 'content-length': '5' }), 4));
      assert.equal(declared.status, 413);
      assert.equal(declared.code, 'body_too_large');
      assert.equal(declared.headers.Connection, 'close');
      const streamed = await httpError(readBody(request(['abc', 'de']), 4));
      assert.equal(streamed.message, 'body must be at most 4 bytes');
    });

    it('should reject with the caller\'s own error when given one', async () => {
      class Own extends Error {}
      await assert.rejects(readBody(request(['abcde']), 4, () => new Own('too big')), Own);
    });
  });

  describe('readJsonObject', () => {
    it('should accept one JSON object and refuse anything else as invalid_json', async () => {
      assert.deepEqual(await readJsonObject(request(['{"a":', '1}']), 100), { a: 1 });
      for (const body of ['{"a":', 'null', '[1]', '"x"']) {
        const err = await httpError(readJsonObject(request([body]), 100));
        assert.deepEqual([err.status, err.code], [400, 'invalid_json'], body);
      }
    });
  });

  describe('request checks', () => {
    it('should want application/json, in any case and with parameters', async () => {
      checkJsonType(request([], { 'content-type': 'Application/JSON; charset=utf-8' }));
      const err = await httpError(() => checkJsonType(request([], { 'content-type': 'text/plain' })));
      assert.equal(err.status, 415);
    });

    it('should want the custom header and, when an Origin is sent, our own or the public one', async () => {
      const base = { 'x-prefline-request': '1', host: 'gw.test:8080' };
      checkSameOrigin(request([], base), undefined);
      checkSameOrigin(request([], { ...base, origin: 'https://GW.test:8080' }), undefined);
      checkSameOrigin(request([], { ...base, origin: 'https://rate.example.org' }), 'https://rate.example.org');
      for (const headers of [{ host: 'gw.test:8080' }, { ...base, origin: 'https://evil.example' }, { ...base, origin: 'null' }]) {
        const err = await httpError(() => checkSameOrigin(request([], headers), undefined));
        assert.deepEqual([err.status, err.code], [403, 'forbidden_origin']);
      }
    });
  });

  describe('decodeParam', () => {
    it('should decode a path parameter, and answer 404 for undecodable, control-character or over-long ones', async () => {
      assert.equal(decodeParam('lc%2F2%20%C3%BC'), 'lc/2 ü');
      for (const raw of ['%E0%A4%A', 'a%00b', 'x'.repeat(257)]) {
        const err = await httpError(() => decodeParam(raw));
        assert.deepEqual([err.status, err.code], [404, 'not_found'], raw);
      }
    });
  });
});
