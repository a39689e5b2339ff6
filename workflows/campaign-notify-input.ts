/**
 * A campaign's `notify` field: who hears when it ends or reaches its quota. Pure and deterministic,
 * shared by the workflow and the CLI. Only the form is checked here; whether a webhook's host may be
 * called is the workers' rule (connectors/webhook.ts), decided where the call is made.
 */
import { parseChannel } from './input';
import type { CampaignNotifyEvent, CampaignNotifyPlan } from './types';

export const NOTIFY_EVENTS: readonly CampaignNotifyEvent[] = ['completed', 'quota'];
const NOTIFY_FIELDS = new Set(['slack', 'email', 'webhook', 'on']);
export const MAX_WEBHOOK_URL_LENGTH = 2000;

/** The plan of a `notify` value, or undefined (with its problems pushed to `errors`) when it is absent or wrong. */
export function validateNotify(raw: unknown, errors: string[]): CampaignNotifyPlan | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.push('notify: must be an object like {"slack": "#results", "email": "team@example.com", "webhook": "https://…", "on": ["completed", "quota"]}');
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
    const problem = webhookUrlProblem(input.webhook);
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
