/**
 * The stream side channel's one secret: the stream key (PREFLINE_STREAM_KEY, or generated into
 * <data>/secrets/stream.key), shared by the gateway and the inference workers and never part of
 * workflow history. A stream id is a random slot name the gateway opens; the inference activity posts
 * the slot's chunks with HMAC(stream key, id), so knowing an id (it is in history) is not enough to
 * write into someone's reply.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const STREAM_SIGNATURE_HEADER = 'x-prefline-stream-signature';
/** Where the gateway receives a slot's chunks: `<internal URL>/internal/chat-streams/<stream id>`. */
export const STREAM_PATH = '/internal/chat-streams/';
const STREAM_ID = /^[A-Za-z0-9_-]{16,64}$/;

export function newStreamId(): string {
  return randomBytes(18).toString('base64url');
}

export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

export function streamSignature(key: Buffer, streamId: string): string {
  if (key.length === 0) throw new Error('stream key is empty');
  return createHmac('sha256', key).update(`prefline-chat-stream\0${streamId}`, 'utf8').digest('base64url');
}

export function verifyStreamSignature(key: Buffer, streamId: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length > 100) return false;
  const expected = Buffer.from(streamSignature(key, streamId));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
