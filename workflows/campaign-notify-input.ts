/**
 * A campaign's `notify` field: who hears when it ends or reaches its quota. Pure and deterministic,
 * shared by the workflow and the CLI. Only the form is checked here; a webhook is named here, its URL is
 * the workers' configuration (PREFLINE_WEBHOOKS, config/webhook.ts: receivers put tokens in URLs, and a
 * workflow's input is in its history for anyone with UI access), and whether its host may be called is the
 * workers' rule (connectors/webhook.ts), decided where the call is made.
 */
import { parseChannel } from './input';
import type { CampaignNotifyEvent, CampaignNotifyPlan } from './types';

export const NOTIFY_EVENTS: readonly CampaignNotifyEvent[] = ['completed', 'quota'];
const NOTIFY_FIELDS = new Set(['slack', 'email', 'webhook', 'on']);
export const MAX_WEBHOOK_URL_LENGTH = 2000;
/** A webhook receiver's name in PREFLINE_WEBHOOKS and in `notify.webhook`. */
export const WEBHOOK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/** The plan of a `notify` value, or undefined (with its problems pushed to `errors`) when it is absent or wrong. */
export function validateNotify(raw: unknown, errors: string[]): CampaignNotifyPlan | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.push('notify: must be an object like {"slack": "#results", "email": "team@example.com", "webhook": "results", "on": ["completed", "quota"]}');
    return undefined;
  }
  const input = raw as Record<string, unknown>;
  const before = errors.length;
  for (const key of Object.keys(input)) {
    if (!NOTIFY_FIELDS.has(key)) errors.push(`notify.${key}: unknown field; known: ${[...NOTIFY_FIELDS].join(', ')}`);
  }
  const plan: CampaignNotifyPlan = { on: [...NOTIFY_EVENTS] };
  if (input.slack !== undefined) {
    const parsed = typeof input.slack === 'string' ? parseChannel(`slack:${input.slack.trim()}`) : undefined;
    if (parsed?.ok && parsed.channel.kind === 'slack') plan.slack = parsed.channel.channel;
    else errors.push('notify.slack: must be a Slack channel, "#channel-name" or a channel id');
  }
  if (input.email !== undefined) {
    const parsed = typeof input.email === 'string' && input.email.trim() !== '' ? parseChannel(`email:${input.email.trim()}`) : undefined;
    if (parsed?.ok && parsed.channel.kind === 'email') {
      plan.email = { recipients: parsed.channel.recipients, ...(parsed.channel.list !== undefined ? { list: parsed.channel.list } : {}) };
    } else {
      const why = parsed && !parsed.ok ? parsed.error.replace(/^channel: /, '').replace(/"email:/g, '"') : 'must be a string';
      errors.push(`notify.email: addresses (comma-separated) or a rater list "@name"; ${why}`);
    }
  }
  if (input.webhook !== undefined) {
    const problem = webhookNameProblem(input.webhook);
    if (problem) errors.push(`notify.webhook: ${problem}`);
    else plan.webhook = (input.webhook as string).trim();
  }
  if (input.on !== undefined) {
    const on = input.on;
    if (!Array.isArray(on) || on.length === 0 || on.some((e) => !NOTIFY_EVENTS.includes(e as CampaignNotifyEvent))) {
      errors.push('notify.on: must be a non-empty list of "completed" (the campaign ended) and "quota" (every item answered)');
    } else plan.on = NOTIFY_EVENTS.filter((e) => on.includes(e));
  }
  if (errors.length === before && plan.slack === undefined && plan.email === undefined && plan.webhook === undefined) {
    errors.push('notify: name at least one of slack, email, webhook');
  }
  return errors.length === before ? plan : undefined;
}

/** Why `notify.webhook` is no receiver name, or undefined; a URL is refused, pointing to PREFLINE_WEBHOOKS. */
export function webhookNameProblem(raw: unknown): string | undefined {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) || text.includes('/')) {
    return 'takes the name of a receiver in PREFLINE_WEBHOOKS on the workers (e.g. "results" for PREFLINE_WEBHOOKS="results=https://…"), not a URL: '
      + 'a URL (and any token in it) would sit in the workflow\'s history';
  }
  if (!WEBHOOK_NAME.test(text)) return 'must be a receiver name from PREFLINE_WEBHOOKS: letters, digits, "-" and "_", at most 63 characters';
  return undefined;
}

/** Why a webhook URL cannot be one (its form: the address rules are the workers'), or undefined. */
export function webhookUrlProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return 'must be an https URL';
  const text = raw.trim();
  if (text.length > MAX_WEBHOOK_URL_LENGTH) return `at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text.slice(0, 100)}" is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an https URL, not ${url.protocol}`;
  // Credentials in a URL would sit in the workflow's history for anyone with UI access to read.
  if (url.username || url.password) return 'must not carry a user name or password; receivers authenticate Prefline by the signature';
  if (url.hash) return 'must not have a #fragment';
  return undefined;
}
