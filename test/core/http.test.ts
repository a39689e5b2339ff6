import assert from 'node:assert/strict';
import type http from 'node:http';
import { Readable } from 'node:stream';
import { HttpError, checkHost, checkJsonType, checkSameOrigin, clientAddress, decodeParam, isLoopbackName, readBody, readJsonObject } from '../../core/http';

interface SocketSide {
  localAddress?: string;
  localPort?: number;
  remoteAddress?: string;
}

/** A request stand-in: the body's chunks, the headers and the socket's addresses (a LAN interface by default). */
function request(chunks: string[], headers: http.IncomingHttpHeaders = {}, socket: SocketSide = { localAddress: '192.0.2.10', localPort: 8080, remoteAddress: '198.51.100.7' }): http.IncomingMessage {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { headers, socket }) as unknown as http.IncomingMessage;
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

    it('should want the custom header and, when an Origin is sent, the public one', async () => {
      const base = { 'x-prefline-request': '1', host: 'gw.test:8080' };
      checkSameOrigin(request([], base), undefined);
      checkSameOrigin(request([], { ...base, origin: 'https://rate.example.org' }), 'https://rate.example.org');
      for (const headers of [{ host: 'gw.test:8080' }, { ...base, origin: 'https://evil.example' }, { ...base, origin: 'null' }]) {
        const err = await httpError(() => checkSameOrigin(request([], headers), undefined));
        assert.deepEqual([err.status, err.code], [403, 'forbidden_origin']);
      }
    });

    it('should never take the Host header for our own origin (a DNS-rebinding page sends its own name in both)', async () => {
      for (const [host, origin] of [['gw.test:8080', 'https://GW.test:8080'], ['rebind.evil.example:8080', 'http://rebind.evil.example:8080']]) {
        const err = await httpError(() => checkSameOrigin(request([], { 'x-prefline-request': '1', host, origin }), 'https://rate.example.org'));
        assert.deepEqual([err.status, err.code], [403, 'forbidden_origin'], origin);
      }
    });

    it('should accept any loopback name on the socket\'s own port when the request came in on loopback', async () => {
      const loopback = { localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1' };
      const headers = (origin: string) => ({ 'x-prefline-request': '1', host: 'whatever:1', origin });
      for (const origin of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080']) checkSameOrigin(request([], headers(origin), loopback), undefined);
      for (const origin of ['http://127.0.0.1:8081', 'http://localhost', 'http://localhost.evil.example:8080']) {
        const err = await httpError(() => checkSameOrigin(request([], headers(origin), loopback), undefined));
        assert.equal(err.code, 'forbidden_origin', origin);
      }
      // The same origins over a LAN interface are someone else's.
      const err = await httpError(() => checkSameOrigin(request([], headers('http://127.0.0.1:8080')), undefined));
      assert.equal(err.code, 'forbidden_origin');
    });

    it('should answer only for the public host or a loopback name (421 otherwise)', async () => {
      for (const host of ['rate.example.org', 'RATE.example.org', 'rate.example.org:443', '127.0.0.1:8080', 'localhost:9', '[::1]:8080', 'localhost']) checkHost(request([], { host }), 'rate.example.org');
      for (const host of [undefined, 'rate.example.org:8443', 'evil.example', 'rate.example.org.evil.example', '10.0.0.5:8080', '127.0.0.1.evil.example']) {
        const err = await httpError(() => checkHost(request([], host === undefined ? {} : { host }), 'rate.example.org'));
        assert.deepEqual([err.status, err.code], [421, 'unknown_host'], String(host));
      }
      assert.equal(isLoopbackName('app.localhost'), true);
      assert.equal(isLoopbackName('127.1'), false);
    });

    it('should count clients by socket address, or through exactly the trusted proxies\' X-Forwarded-For', () => {
      const via = (xff: string | undefined, remoteAddress = '10.0.0.2') => request([], xff === undefined ? {} : { 'x-forwarded-for': xff }, { remoteAddress });
      assert.equal(clientAddress(via('6.6.6.6'), 0), '10.0.0.2'); // not trusted: the header is the client's to invent
      assert.equal(clientAddress(via('6.6.6.6, 203.0.113.9'), 1), '203.0.113.9'); // the proxy appended what it saw
      assert.equal(clientAddress(via('6.6.6.6, 203.0.113.9, 10.0.0.1'), 2), '203.0.113.9');
      assert.equal(clientAddress(via(undefined), 1), '10.0.0.2');
      assert.equal(clientAddress(via(undefined, '::ffff:192.0.2.1'), 0), '192.0.2.1');
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
