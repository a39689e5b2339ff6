/**
 * The mails of a compare lifecycle: the question and both candidates in the order THIS rater is shown
 * them (A = left, B = right: presentationOrder per rater, so every judgement records the order its rater
 * saw), and one signed answer link per answer (A is better, B is better, tie, both bad where offered,
 * withdraw), each opening a confirmation page as vote links do. No model names: candidates are named
 * by position only. Compare mails carry no reply address: a reply's "A" would read as a thumbs vote.
 * Pure, like compose.ts.
 */
import type { SendMailOptions } from 'nodemailer';
import type { CloseReason, JudgementCounts } from '../../workflows/types';
import { commonHeaders, composeReminderMail, composeResultsMail, escapeHtml, pushFooter, sender, subjectFor, when, type ClosingMail, type MailCandidate, type Sender } from './compose';

export interface AnswerLinks {
  left: string;
  right: string;
  tie: string;
  /** Absent where the lifecycle does not offer "both bad". */
  bothBad?: string;
  retract: string;
}

export type MailSide = Pick<MailCandidate, 'kind' | 'text' | 'placeholder' | 'image'>;

export interface CompareInviteMail {
  from: Sender;
  to: string;
  messageId: string;
  prompt: string;
  question: string;
  deadlineAt: string;
  /** [A, B]: left and right as this rater is shown them. */
  sides: [MailSide, MailSide];
  links: AnswerLinks;
  unsubscribeUrl: string;
}

function answerList(links: AnswerLinks): Array<[string, string]> {
  return [
    ['A is better', links.left],
    ['B is better', links.right],
    ['Tie', links.tie],
    ...(links.bothBad ? [['Both bad', links.bothBad] as [string, string]] : []),
    ['Withdraw my answer', links.retract],
  ];
}

const LINK_NOTE = 'Each link opens a confirmation page; nothing is counted until you press its button. Your latest answer counts.';

export function composeCompareInvite(mail: CompareInviteMail): SendMailOptions {
  const deadline = when(mail.deadlineAt);
  const text: string[] = [`Prompt: ${mail.prompt}`, '', mail.question, `Please answer before ${deadline}.`, ''];
  const html: string[] = [
    `<p><strong>Prompt:</strong> ${escapeHtml(mail.prompt)}</p>`,
    `<p><strong>${escapeHtml(mail.question)}</strong></p>`,
    `<p>Please answer before ${escapeHtml(deadline)}.</p>`,
  ];
  mail.sides.forEach((side, i) => {
    const name = i === 0 ? 'A' : 'B';
    const note = side.placeholder ? ' (placeholder for a model)' : '';
    text.push(`${name}${note}`);
    if (side.kind === 'text' && side.text !== undefined) text.push(...side.text.split(/\r?\n/).map((l) => `  ${l}`));
    else text.push('  [image: see the HTML version of this email]');
    text.push('');
    html.push(
      `<h3>${name}${escapeHtml(note)}</h3>`,
      side.image
        ? `<p><img src="cid:${escapeHtml(side.image.cid)}" alt="${name}" width="256"></p>`
        : `<pre style="white-space:pre-wrap">${escapeHtml(side.text ?? '')}</pre>`,
    );
  });
  const answers = answerList(mail.links);
  text.push('Your answer:', ...answers.map(([label, url]) => `  ${label}: ${url}`), '', LINK_NOTE);
  html.push(`<p>${answers.map(([label, url]) => `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`).join(' &nbsp; ')}</p>`, `<p>${escapeHtml(LINK_NOTE)}</p>`);
  pushFooter(text, html, { unsubscribeUrl: mail.unsubscribeUrl });
  return {
    from: sender(mail.from),
    to: mail.to,
    subject: subjectFor('Which is better', mail.prompt),
    messageId: mail.messageId,
    text: text.join('\n'),
    html: `<!doctype html><html><body>${html.join('\n')}</body></html>`,
    attachments: mail.sides.flatMap((s) => (s.image ? [{ ...s.image, contentDisposition: 'inline' as const }] : [])),
    ...commonHeaders(mail.unsubscribeUrl),
  };
}

export interface CompareReminderMail extends Omit<CompareInviteMail, 'sides'> {
  inReplyTo: string;
}

export function composeCompareReminder(mail: CompareReminderMail): SendMailOptions {
  const intro = `Answering closes ${when(mail.deadlineAt)} and we have no answer from you yet. The first email shows A and B; these links work too.`;
  const answers = answerList(mail.links);
  const text = [`Prompt: ${mail.prompt}`, '', mail.question, intro, '', ...answers.map(([label, url]) => `  ${label}: ${url}`)];
  const html = [
    `<p><strong>Prompt:</strong> ${escapeHtml(mail.prompt)}</p>`,
    `<p><strong>${escapeHtml(mail.question)}</strong></p>`,
    `<p>${escapeHtml(intro)}</p>`,
    `<p>${answers.map(([label, url]) => `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`).join(' &nbsp; ')}</p>`,
  ];
  pushFooter(text, html, { unsubscribeUrl: mail.unsubscribeUrl });
  return composeReminderMail(mail, 'Reminder: which is better', text, html);
}

export interface CompareClosingMail extends Omit<ClosingMail, 'tally'> {
  /** Each candidate by name (its model, now that voting has closed) with its id. */
  candidates: Array<{ id: string; name: string }>;
  judgements?: JudgementCounts;
}

const CLOSED: Record<CloseReason, string> = {
  quorum: 'Answering closed: enough answers came in.',
  deadline: 'Answering closed at the deadline.',
  closed: 'Answering was closed by the organisers.',
};

export function composeCompareClosing(mail: CompareClosingMail): SendMailOptions {
  const counts = mail.judgements;
  const lines = counts && counts.standing > 0
    ? [...mail.candidates.map((c) => `${c.name}: preferred ${counts.byCandidate[c.id] ?? 0} times`), `Ties: ${counts.tie}`, `Both bad: ${counts.bothBad}`, `Answers: ${counts.standing}`]
    : ['No answers were given.'];
  return composeResultsMail(mail, `${CLOSED[mail.closeReason]} Thank you for rating.`, lines);
}
