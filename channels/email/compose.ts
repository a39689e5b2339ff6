/**
 * The mails Prefline sends, as nodemailer message objects. Pure: no I/O, no secrets (links are passed in).
 *
 * Header safety: every caller-influenced header value (subject, display names) goes through `oneLine`,
 * which turns CR, LF and every other control character into a space, so no value can start a new
 * header line, whatever nodemailer's own encoding does. Bodies are HTML-escaped.
 */
import type { SendMailOptions } from 'nodemailer';
import type { CandidateTally, CloseReason } from '../../workflows/types';

export interface Sender {
  name?: string;
  address: string;
}

export interface MailCandidate {
  id: string;
  label: string;
  kind: 'image' | 'text';
  text?: string;
  placeholder: boolean;
  /** Inline image (referenced as `cid:`), for image candidates. */
  image?: { cid: string; content: Buffer; contentType: string; filename: string };
  links: { up: string; down: string; retract: string };
}

export interface InviteMail {
  from: Sender;
  to: string;
  messageId: string;
  prompt: string;
  deadlineAt: string;
  candidates: MailCandidate[];
  unsubscribeUrl: string;
  /** The signed reply address, when inbound replies are configured. */
  replyTo?: string;
}

/** Control characters (CR, LF, tabs, NUL, DEL, line/paragraph separators) become spaces; runs collapse. */
export function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/\s{2,}/g, ' ').trim();
}

export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function subjectFor(prefix: string, prompt: string): string {
  return oneLine(`${prefix}: ${truncate(oneLine(prompt), 70)}`);
}

export function sender(from: Sender): SendMailOptions['from'] {
  return from.name ? { name: oneLine(from.name), address: from.address } : from.address;
}

export function when(iso: string): string {
  return new Date(iso).toUTCString().replace('GMT', 'UTC');
}

/** Headers every Prefline mail carries: machine-generated (RFC 3834), so autoresponders stay quiet. */
export function commonHeaders(unsubscribeUrl: string): Pick<SendMailOptions, 'headers' | 'list' | 'disableFileAccess' | 'disableUrlAccess'> {
  return {
    list: { unsubscribe: { url: unsubscribeUrl, comment: 'Stop rating requests from Prefline' } },
    headers: {
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
    },
    // Content only ever comes from buffers we built: never let a value be read as a path or URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

export const REPLY_HELP =
  'Reply with your vote on the first line: a thumb and a candidate, e.g. "👍 B", "👎 2", "+1 A" or "-1 C". ' +
  'Several votes go on one line, separated by commas ("👍 A, 👎 C"). With a single candidate, "👍" or "+1" alone is enough.';

export function composeInvite(mail: InviteMail): SendMailOptions {
  const n = mail.candidates.length;
  const deadline = when(mail.deadlineAt);
  const text: string[] = [`Prompt: ${mail.prompt}`, '', `Please rate ${n === 1 ? 'this candidate' : `these ${n} candidates`} before ${deadline}.`, ''];
  const html: string[] = [
    `<p><strong>Prompt:</strong> ${escapeHtml(mail.prompt)}</p>`,
    `<p>Please rate ${n === 1 ? 'this candidate' : `these ${n} candidates`} before ${escapeHtml(deadline)}.</p>`,
  ];
  for (const c of mail.candidates) {
    const note = c.placeholder ? ' (placeholder for a model)' : '';
    text.push(`Candidate ${c.label}${note}`);
    if (c.kind === 'text' && c.text !== undefined) text.push(...c.text.split(/\r?\n/).map((l) => `  ${l}`));
    else text.push('  [image: see the HTML version of this email]');
    text.push(`  👍 Thumbs up:   ${c.links.up}`, `  👎 Thumbs down: ${c.links.down}`, `  ↩ Withdraw:     ${c.links.retract}`, '');
    html.push(
      `<h3>Candidate ${escapeHtml(c.label)}${escapeHtml(note)}</h3>`,
      c.image
        ? `<p><img src="cid:${escapeHtml(c.image.cid)}" alt="Candidate ${escapeHtml(c.label)}" width="256"></p>`
        : `<pre style="white-space:pre-wrap">${escapeHtml(c.text ?? '')}</pre>`,
      `<p><a href="${escapeHtml(c.links.up)}">👍 Thumbs up</a> &nbsp; <a href="${escapeHtml(c.links.down)}">👎 Thumbs down</a> &nbsp; <a href="${escapeHtml(c.links.retract)}">↩ Withdraw</a></p>`,
    );
  }
  const linkNote = 'Each link opens a confirmation page; nothing is counted until you press its button.';
  text.push(linkNote);
  html.push(`<p>${escapeHtml(linkNote)}</p>`);
  pushFooter(text, html, mail);
  return {
    from: sender(mail.from),
    to: mail.to,
    ...(mail.replyTo ? { replyTo: { name: 'Prefline votes', address: mail.replyTo } } : {}),
    subject: subjectFor(`Rate ${n} candidate${n === 1 ? '' : 's'}`, mail.prompt),
    messageId: mail.messageId,
    text: text.join('\n'),
    html: `<!doctype html><html><body>${html.join('\n')}</body></html>`,
    attachments: mail.candidates.flatMap((c) => (c.image ? [{ ...c.image, contentDisposition: 'inline' as const }] : [])),
    ...commonHeaders(mail.unsubscribeUrl),
  };
}

/** How to vote by reply (when replies are possible) and how to stop these emails. */
export function pushFooter(text: string[], html: string[], mail: Pick<InviteMail, 'replyTo' | 'unsubscribeUrl'>): void {
  if (mail.replyTo) {
    text.push('', REPLY_HELP);
    html.push(`<p>${escapeHtml(REPLY_HELP)}</p>`);
  }
  text.push('', `Stop these emails: ${mail.unsubscribeUrl}`);
  html.push(`<p style="font-size:small"><a href="${escapeHtml(mail.unsubscribeUrl)}">Stop these emails</a></p>`);
}

export interface ReminderMail extends Omit<InviteMail, 'candidates'> {
  inReplyTo: string;
  candidates: Array<Pick<MailCandidate, 'label' | 'links'>>;
}

export function composeReminder(mail: ReminderMail): SendMailOptions {
  const deadline = when(mail.deadlineAt);
  const intro = `Voting closes ${deadline} and we have no vote from you yet. The first email shows the candidates; these links work too.`;
  const text = [`Prompt: ${mail.prompt}`, '', intro, ''];
  const html = [`<p><strong>Prompt:</strong> ${escapeHtml(mail.prompt)}</p>`, `<p>${escapeHtml(intro)}</p>`];
  for (const c of mail.candidates) {
    text.push(`Candidate ${c.label}:  👍 ${c.links.up}`, `              👎 ${c.links.down}`);
    html.push(`<p>Candidate ${escapeHtml(c.label)}: <a href="${escapeHtml(c.links.up)}">👍 Thumbs up</a> &nbsp; <a href="${escapeHtml(c.links.down)}">👎 Thumbs down</a></p>`);
  }
  pushFooter(text, html, mail);
  return composeReminderMail(mail, 'Reminder: rate', text, html, mail.replyTo);
}

/**
 * A reminder in a lifecycle's thread, thumbs and compare alike: `text` and `html` lines as its body
 * (footer included), and a reply address only where one is passed (compare reminders pass none).
 */
export function composeReminderMail(
  mail: Pick<ReminderMail, 'from' | 'to' | 'messageId' | 'inReplyTo' | 'prompt' | 'unsubscribeUrl'>,
  subjectPrefix: string,
  text: readonly string[],
  html: readonly string[],
  replyTo?: string,
): SendMailOptions {
  return {
    from: sender(mail.from),
    to: mail.to,
    ...(replyTo ? { replyTo: { name: 'Prefline votes', address: replyTo } } : {}),
    subject: subjectFor(subjectPrefix, mail.prompt),
    messageId: mail.messageId,
    inReplyTo: mail.inReplyTo,
    references: [mail.inReplyTo],
    text: text.join('\n'),
    html: `<!doctype html><html><body>${html.join('\n')}</body></html>`,
    ...commonHeaders(mail.unsubscribeUrl),
  };
}

export interface ClosingMail {
  from: Sender;
  to: string;
  messageId: string;
  inReplyTo: string;
  prompt: string;
  closeReason: CloseReason;
  tally: CandidateTally[];
  unsubscribeUrl: string;
}

const CLOSE_REASONS: Record<CloseReason, string> = {
  quorum: 'Voting closed: enough votes came in.',
  deadline: 'Voting closed at the deadline.',
  closed: 'Voting was closed by the organisers.',
};

export function composeClosing(mail: ClosingMail): SendMailOptions {
  const lines = mail.tally.map((t) => `Candidate ${t.label}: 👍 ${t.up} · 👎 ${t.down} (score ${t.score > 0 ? '+' : ''}${t.score})`);
  return composeResultsMail(mail, `${CLOSE_REASONS[mail.closeReason]} Thank you for rating.`, lines);
}

/**
 * The results mail that closes a lifecycle's thread, thumbs and compare alike: the prompt, why voting
 * closed, one line per result, the footer.
 */
export function composeResultsMail(
  mail: Pick<ClosingMail, 'from' | 'to' | 'messageId' | 'inReplyTo' | 'prompt' | 'unsubscribeUrl'>,
  intro: string,
  lines: readonly string[],
): SendMailOptions {
  return {
    from: sender(mail.from),
    to: mail.to,
    subject: subjectFor('Results', mail.prompt),
    messageId: mail.messageId,
    inReplyTo: mail.inReplyTo,
    references: [mail.inReplyTo],
    text: [`Prompt: ${mail.prompt}`, '', intro, '', ...lines, '', `Stop these emails: ${mail.unsubscribeUrl}`].join('\n'),
    html: `<!doctype html><html><body><p><strong>Prompt:</strong> ${escapeHtml(mail.prompt)}</p><p>${escapeHtml(intro)}</p><ul>${lines
      .map((l) => `<li>${escapeHtml(l)}</li>`)
      .join('')}</ul><p style="font-size:small"><a href="${escapeHtml(mail.unsubscribeUrl)}">Stop these emails</a></p></body></html>`,
    ...commonHeaders(mail.unsubscribeUrl),
  };
}

export interface AutoAnswerMail {
  from: Sender;
  to: string;
  inReplyTo?: string;
  reason: 'unreadable' | 'closed';
}

/** The one automatic answer to a reply (RFC 3834: `Auto-Submitted: auto-replied`, threaded, no list headers). */
export function composeAutoAnswer(mail: AutoAnswerMail): SendMailOptions {
  const body =
    mail.reason === 'closed'
      ? 'Thank you for your reply. Voting on this prompt has closed, so your vote was not counted.'
      : `We could not read a vote in your reply, so nothing was counted.\n\n${REPLY_HELP}\n\nQuoted text below your reply is ignored. You can also use the links in the original email.`;
  return {
    from: sender(mail.from),
    to: mail.to,
    subject: mail.reason === 'closed' ? 'Voting has closed' : 'Your vote could not be read',
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo, references: [mail.inReplyTo] } : {}),
    text: body,
    headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
