import assert from 'node:assert/strict';
import { UnreadableReplyError } from '../../../channels/email/errors';
import { MAX_DELIMITER_LINES, header, messageKey, readMessage } from '../../../channels/email/mime';

const CRLF = '\r\n';

describe('channels/email/mime', () => {
  it('should read headers (every value of a repeated one, unfolded), the Message-ID and the text/plain parts', async () => {
    const raw = Buffer.from([
      'Received: from a', 'Received: from b', 'Subject: a long', '  folded subject', 'Message-ID: junk <id-1@x.test> trailing',
      'Content-Type: multipart/alternative; boundary=b', '', '--b', 'Content-Type: text/plain; charset=utf-8', '', '👍 B', '--b', 'Content-Type: text/html', '', '<p>👎 A</p>', '--b--', '',
    ].join(CRLF));
    const message = await readMessage(raw);
    assert.deepEqual(message.headers.get('received'), ['from a', 'from b']);
    assert.match(header(message, 'Subject') ?? '', /^a long\s+folded subject$/);
    assert.equal(message.messageId, '<id-1@x.test>');
    assert.equal(message.text.trim(), '👍 B');
    assert.equal(messageKey(message, raw), '<id-1@x.test>');
    const anonymous = await readMessage(Buffer.from(`Content-Type: text/plain${CRLF}${CRLF}+1 A`));
    assert.match(messageKey(anonymous, Buffer.from('x')), /^sha256:[0-9a-f]{64}$/);
  });

  it('should never read an attached or forwarded message as part of the reply', async () => {
    const raw = Buffer.from([
      'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: message/rfc822', '', 'Subject: original', '', '👍 A', '--b',
      'Content-Type: text/plain', 'Content-Disposition: attachment; filename=x.txt', '', '👎 B', '--b--', '',
    ].join(CRLF));
    assert.equal((await readMessage(raw)).text, '');
  });

  it('should refuse what is past its bounds as UnreadableReplyError', async () => {
    const refused = async (raw: string, reason: RegExp) =>
      assert.rejects(readMessage(Buffer.from(raw)), (err: unknown) => err instanceof UnreadableReplyError && reason.test(err.message));
    await refused(`Content-Type: multipart/mixed; boundary=b${CRLF}${CRLF}${`--b${CRLF}${CRLF}x${CRLF}`.repeat(MAX_DELIMITER_LINES + 1)}`, /delimiter lines/);
    await refused(`${Array.from({ length: 20 }, (_, i) => `Content-Type: multipart/mixed; boundary=b${i}${CRLF}${CRLF}--b${i}${CRLF}`).join('')}x`, /nesting/i);
    await refused(`X-Big: ${'a'.repeat(300_000)}${CRLF}${CRLF}x`, /header size/i);
    // Within the bounds: the same shapes, smaller.
    const parts = `Content-Type: multipart/mixed; boundary=b${CRLF}${CRLF}${`--b${CRLF}${CRLF}x${CRLF}`.repeat(MAX_DELIMITER_LINES - 2)}--b--`;
    assert.ok((await readMessage(Buffer.from(parts))).text.startsWith('x'));
  });
});
