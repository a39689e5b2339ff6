import assert from 'node:assert/strict';
import { decodeEntities, htmlToText } from '../../../channels/email/html-text';

const lines = (html: string) => htmlToText(html).split('\n').map((l) => l.trim()).filter(Boolean);

describe('channels/email/html-text', () => {
  it('should end lines at block ends and drop tags, scripts, styles, titles and comments', () => {
    assert.deepEqual(lines('<html><head><title>Re: vote</title><style>p{color:red}</style></head><body><div>+1 A</div><p>thanks<br>Bo</p><script>x="</div>"</script><!-- 👎 B --></body></html>'), ['+1 A', 'thanks', 'Bo']);
  });

  it('should drop quoted blocks by depth, and everything from a mail client\'s quote container on', () => {
    assert.deepEqual(lines('<div>👍 B</div><blockquote>q<blockquote>qq</blockquote>still quoted</blockquote><div>after</div>'), ['👍 B', 'after']);
    assert.deepEqual(lines('<div>-1 A</div><div class="gmail_quote"><div>On Mon … wrote:</div></div><div>bottom</div>'), ['-1 A']);
    assert.deepEqual(lines('<p>B</p><div id="x" class=\'moz-cite-prefix\'>On … wrote:</div>'), ['B']);
    assert.deepEqual(lines('<div>+1 C</div><blockquote>unclosed'), ['+1 C']);
  });

  it('should keep a "<" that starts no tag as text, as a browser shows it', () => {
    assert.deepEqual(lines('<div>1 < 2 and 3 <= 4, <3</div>'), ['1 < 2 and 3 <= 4, <3']);
    assert.equal(htmlToText('<<<'), '<<<');
    assert.equal(htmlToText('x <head'), 'x <head');
  });

  it('should decode entities, numeric ones within Unicode only', () => {
    assert.equal(decodeEntities('&#x1F44D; &#128078; &amp;&lt;&gt;&quot;&apos;&nbsp;&unknown; &#xD800; &#x110000; &#0;'), '👍 👎 &<>"\' &unknown;   ');
  });
});
