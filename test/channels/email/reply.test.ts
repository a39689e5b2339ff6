import assert from 'node:assert/strict';
import { createTransport } from 'nodemailer';
import { htmlToText } from '../../../channels/email/html-text';
import { readMessage } from '../../../channels/email/mime';
import { firstReplyLine, parseVoteLine } from '../../../channels/email/reply';

const FOUR = [
  { id: 'c1', label: 'A' },
  { id: 'c2', label: 'B' },
  { id: 'c3', label: 'C' },
  { id: 'c4', label: 'D' },
];
const ONE = [{ id: 'c1', label: 'A' }];

async function build(message: Parameters<ReturnType<typeof createTransport>['sendMail']>[0]): Promise<Buffer> {
  const info = await createTransport({ streamTransport: true, buffer: true }).sendMail(message);
  return info.message as Buffer;
}

describe('channels/email/reply', () => {
  describe('parseVoteLine', () => {
    const cases: Array<[string, ReadonlyArray<{ id: string; label: string }>, Array<[string, string]> | undefined]> = [
      ['👍 B', FOUR, [['c2', 'up']]],
      ['👎 2', FOUR, [['c2', 'down']]],
      ['+1 A', FOUR, [['c1', 'up']]],
      ['-1 c', FOUR, [['c3', 'down']]],
      ['B', FOUR, [['c2', 'up']]],
      ['2', FOUR, [['c2', 'up']]],
      ['#4', FOUR, [['c4', 'up']]],
      ['B 👎', FOUR, [['c2', 'down']]],
      ['👍🏽 d', FOUR, [['c4', 'up']]],
      ['👍️B', FOUR, [['c2', 'up']]],
      ['up: A', FOUR, [['c1', 'up']]],
      ['retract B', FOUR, [['c2', 'retract']]],
      ['👍 A, 👎 C; +1 D.', FOUR, [['c1', 'up'], ['c3', 'down'], ['c4', 'up']]],
      ['👍 A, 👎 A', FOUR, [['c1', 'down']]],
      ['+1', ONE, [['c1', 'up']]],
      ['👎', ONE, [['c1', 'down']]],
      ['-1!', ONE, [['c1', 'down']]],
      // Refused: ambiguous, unknown or not a vote at all.
      ['+1', FOUR, undefined],
      ['-1', FOUR, undefined],
      ['👍', FOUR, undefined],
      ['E', FOUR, undefined],
      ['5', FOUR, undefined],
      ['+12', FOUR, undefined],
      ['B is the best', FOUR, undefined],
      ['apple', FOUR, undefined],
      ['upper A', FOUR, undefined],
      ['👍 A,', FOUR, undefined],
      ['', FOUR, undefined],
      ['Thanks!', ONE, undefined],
    ];
    for (const [line, candidates, expected] of cases) {
      it(`should read ${JSON.stringify(line)} with ${candidates.length} candidate(s) as ${expected ? JSON.stringify(expected) : 'no vote'}`, () => {
        const votes = parseVoteLine(line, candidates);
        assert.deepEqual(votes?.map((v) => [v.candidateId, v.value]), expected);
      });
    }
  });

  describe('firstReplyLine', () => {
    it('should skip quoted text and the attribution line, top- and bottom-posted', () => {
      assert.equal(firstReplyLine('👎 2\n\nOn Mon, 2 Mar 2026 at 10:00, Prefline <vote+x@in.test> wrote:\n> 👍 A\n> Prompt: fox'), '👎 2');
      assert.equal(firstReplyLine('On Mon, 2 Mar 2026 at 10:00, Prefline <vote+x@in.test>\nwrote:\n> 👍 A\n\n+1 B\n'), '+1 B');
      assert.equal(firstReplyLine('\r\n  \u00a0+1 C\r\n'), '+1 C');
    });

    it('should strip control and bidi characters a mail client or a prankster put around the vote', () => {
      assert.equal(firstReplyLine('\u200f👍 B\u200e'), '👍 B'); // Outlook's direction marks in right-to-left locales
      assert.equal(firstReplyLine('\u202e👍 B\u202c\u001b[0m'), '👍 B[0m'); // refused by the grammar for what is left
      assert.deepEqual(parseVoteLine(firstReplyLine('\u2067-1 A\u2069\u0007')!, FOUR), [{ candidateId: 'c1', value: 'down' }]);
    });

    it('should stop at an Outlook original-message block and a signature', () => {
      assert.equal(firstReplyLine('-----Original Message-----\nFrom: Prefline\nB'), undefined);
      assert.equal(firstReplyLine('________________________________\nFrom: Prefline\n👍 A'), undefined);
      assert.equal(firstReplyLine('-- \nAlice'), undefined);
      assert.equal(firstReplyLine('> only quoted\n>> 👍 A'), undefined);
    });
  });

  describe('readMessage', () => {
    it('should read the text/plain part of a multipart reply, quoted-printable or base64, in any charset', async () => {
      const qp = await build({ from: 'a@x.test', to: 'b@y.test', text: '👎 2 — non-ASCII ✓\n\n> quoted', html: '<p>ignored</p>', textEncoding: 'quoted-printable' });
      assert.match((await readMessage(qp)).text, /^👎 2 — non-ASCII ✓/);
      const b64 = await build({ from: 'a@x.test', to: 'b@y.test', text: '👍 B', textEncoding: 'base64', messageId: '<abc@x.test>' });
      const parsed = await readMessage(b64);
      assert.equal(parsed.text.trim(), '👍 B');
      assert.equal(parsed.messageId, '<abc@x.test>');
      const latin1 = Buffer.from('Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n+1 A caf\xe9\r\n', 'latin1');
      assert.equal((await readMessage(latin1)).text.trim(), '+1 A café');
    });

    it('should reduce an HTML-only reply to text without the quoted original', async () => {
      const raw = await build({
        from: 'a@x.test',
        to: 'b@y.test',
        html: '<div dir="ltr">&#x1F44D; B</div><br><div class="gmail_quote"><blockquote>👎 A</blockquote></div>',
        attachments: [{ filename: 'x.txt', content: 'attached 👎 C' }],
      });
      assert.equal(firstReplyLine((await readMessage(raw)).text), '👍 B');
      assert.equal(htmlToText('<p>+1&nbsp;A</p><blockquote>👎 B</blockquote>').trim(), '+1 A');
    });
  });
});
