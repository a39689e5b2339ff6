/**
 * A campaign digest: one mail with a rater's next items, each with its own signed answer links (the
 * compare mails' `/email/j/` links, the thumbs mails' `/email/v/` links: each opens a confirmation page, so
 * a mail scanner that follows links counts nothing). A compare item shows both candidates in the order
 * THIS rater is shown them; no model names. The items are reserved for the rater until `reservedUntil`.
 * Pure, like compose.ts.
 */
import type { SendMailOptions } from 'nodemailer';
import type { AnswerLinks, MailSide } from './compare-compose';
import { commonHeaders, escapeHtml, pushFooter, sender, subjectFor, when, type MailCandidate, type Sender } from './compose';

export type DigestItem =
  | { task: 'compare'; prompt: string; question: string; sides: [MailSide, MailSide]; links: AnswerLinks }
  | { task: 'thumbs'; prompt: string; candidates: MailCandidate[] };

export interface DigestMail {
  from: Sender;
  to: string;
  messageId: string;
  campaign: string;
  items: DigestItem[];
  reservedUntil: string;
  unsubscribeUrl: string;
}

const LINK_NOTE = 'Each link opens a confirmation page; nothing is counted until you press its button. Your latest answer on an item counts.';

export function composeDigest(mail: DigestMail): SendMailOptions {
  const count = `${mail.items.length} item${mail.items.length === 1 ? '' : 's'}`;
  const intro = `${count} of the campaign "${mail.campaign}" for you to rate, held for you until ${when(mail.reservedUntil)}.`;
  const text: string[] = [intro, ''];
  const html: string[] = [`<p>${escapeHtml(intro)}</p>`];
  mail.items.forEach((item, n) => {
    text.push(`— Item ${n + 1} —`, `Prompt: ${item.prompt}`);
    html.push('<hr>', `<h2>Item ${n + 1}</h2>`, `<p><strong>Prompt:</strong> ${escapeHtml(item.prompt)}</p>`);
    if (item.task === 'compare') {
      text.push(item.question, '');
      html.push(`<p><strong>${escapeHtml(item.question)}</strong></p>`);
      item.sides.forEach((side, i) => {
        const name = i === 0 ? 'A' : 'B';
        const note = side.placeholder ? ' (placeholder for a model)' : '';
        text.push(`${name}${note}`, ...(side.kind === 'text' && side.text !== undefined ? side.text.split(/\r?\n/).map((l) => `  ${l}`) : ['  [image: see the HTML version of this email]']), '');
        html.push(`<h3>${name}${escapeHtml(note)}</h3>`, side.image ? `<p><img src="cid:${escapeHtml(side.image.cid)}" alt="${name}" width="256"></p>` : `<pre style="white-space:pre-wrap">${escapeHtml(side.text ?? '')}</pre>`);
      });
      const answers: Array<[string, string]> = [
        ['A is better', item.links.left], ['B is better', item.links.right], ['Tie', item.links.tie], ...(item.links.bothBad ? [['Both bad', item.links.bothBad] as [string, string]] : []),
      ];
      text.push('Your answer:', ...answers.map(([label, url]) => `  ${label}: ${url}`), '');
      html.push(`<p>${answers.map(([label, url]) => `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`).join(' &nbsp; ')}</p>`);
      return;
    }
    for (const c of item.candidates) {
      const note = c.placeholder ? ' (placeholder for a model)' : '';
      text.push(`Candidate ${c.label}${note}`, ...(c.kind === 'text' && c.text !== undefined ? c.text.split(/\r?\n/).map((l) => `  ${l}`) : ['  [image: see the HTML version of this email]']));
      text.push(`  Good: ${c.links.up}`, `  Bad: ${c.links.down}`, '');
      html.push(
        `<h3>Candidate ${escapeHtml(c.label)}${escapeHtml(note)}</h3>`,
        c.image ? `<p><img src="cid:${escapeHtml(c.image.cid)}" alt="Candidate ${escapeHtml(c.label)}" width="256"></p>` : `<pre style="white-space:pre-wrap">${escapeHtml(c.text ?? '')}</pre>`,
        `<p><a href="${escapeHtml(c.links.up)}">👍 Good</a> &nbsp; <a href="${escapeHtml(c.links.down)}">👎 Bad</a></p>`,
      );
    }
  });
  text.push(LINK_NOTE);
  html.push('<hr>', `<p>${escapeHtml(LINK_NOTE)}</p>`);
  pushFooter(text, html, { unsubscribeUrl: mail.unsubscribeUrl });
  const images = mail.items.flatMap((item) => (item.task === 'compare' ? item.sides.map((s) => s.image) : item.candidates.map((c) => c.image)));
  return {
    from: sender(mail.from),
    to: mail.to,
    subject: subjectFor(`${count} to rate`, mail.campaign),
    messageId: mail.messageId,
    text: text.join('\n'),
    html: `<!doctype html><html><body>${html.join('\n')}</body></html>`,
    attachments: images.flatMap((image) => (image ? [{ ...image, contentDisposition: 'inline' as const }] : [])),
    ...commonHeaders(mail.unsubscribeUrl),
  };
}
