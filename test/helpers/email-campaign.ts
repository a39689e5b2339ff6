/**
 * The stack an email campaign test runs on: an SMTP sink, the gateway with the email routes (answer links
 * and their POST page), the email publisher and campaign digests, and lifecycle workers on the shared dev
 * server. The tests say only what differs: their raters and, if any, how the channel activities behave.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChannelActivities } from '../../activities/channel';
import { createCampaignDigestActivities } from '../../activities/campaign-digest';
import { EmailDigests } from '../../channels/email/digest';
import { createEmailPublisher, type EmailPublisherOptions } from '../../channels/email/publisher';
import { createEmailRoutes } from '../../channels/email/routes';
import { createSmtpTransport } from '../../channels/email/smtp';
import { EmailState } from '../../channels/email/state';
import { createWebPublisher } from '../../channels/web/publisher';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { artifactSourceFor } from '../../gateway/main';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { ArtifactStore } from '../../store/ArtifactStore';
import { RATER_KEY, TOKEN_KEY } from './email';
import { SmtpSink, type SunkMail } from './smtp-sink';
import { createLifecycleWorkers, sharedTemporal, type LifecycleWorkers, type WorkerOverrides } from './temporal';

export const isDigest = (m: SunkMail) => m.mail.subject?.includes('to rate:') === true;

/** The items of a digest: each one's prompt, text block and answer links, in the mail's order. */
export function digestItems(mail: SunkMail): Array<{ prompt: string; block: string; links: Record<string, string> }> {
  return mail.mail.text!.split(/^— Item \d+ —$/m).slice(1).map((block) => ({
    prompt: /^Prompt: (.*)$/m.exec(block)![1]!,
    block: block.split('Your answer:')[0]!,
    links: Object.fromEntries([...block.matchAll(/^ {2}(A is better|B is better|Tie|Both bad): (\S+)$/gm)].map((m) => [m[1]!, m[2]!])),
  }));
}

export interface EmailCampaignStack {
  sink: SmtpSink;
  workers: LifecycleWorkers;
  close(): Promise<void>;
}

type ChannelParts = { channel: NonNullable<WorkerOverrides['channel']>; digests: ReturnType<typeof createCampaignDigestActivities> };

/** Starts the stack for `raters` (the `@raters` list); `channel` may replace the channel activities the workers get. */
export async function startEmailCampaignStack(label: string, raters: readonly string[], channel: (parts: ChannelParts) => WorkerOverrides['channel'] = (p) => p.channel): Promise<EmailCampaignStack> {
  const { client } = await sharedTemporal();
  const sink = await new SmtpSink().start();
  const transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 2, rateLimit: 0 });
  const dir = mkdtempSync(join(tmpdir(), `prefline-${label}-`));
  let server: Server | undefined;
  let workers: LifecycleWorkers | undefined;
  const close = async () => {
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    transport.close();
    await sink.stop();
    workers?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const state = await EmailState.open(join(dir, 'email'));
    const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    server = createGatewayServer({
      directory, artifacts: artifactSourceFor(artifacts), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-email-campaigns-0'), sessionTtlMs: 3_600_000,
      channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state }), log: () => undefined,
    });
    const { url } = await listen(server, '127.0.0.1', 0);
    const options: EmailPublisherOptions = {
      transport, from: { name: 'Prefline', address: 'ratings@prefline.test' }, publicUrl: url, raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state,
      artifacts, lists: { raters: [...raters] },
    };
    const publisher = createEmailPublisher(options);
    const digests = createCampaignDigestActivities({ digests: new EmailDigests(options, publisher) });
    const defaults = { ...createChannelActivities({ web: createWebPublisher('http://rating.test'), email: publisher }), ...digests };
    workers = await createLifecycleWorkers(label, { channel: channel({ channel: defaults, digests }) });
    return { sink, workers, close };
  } catch (err) {
    await close();
    throw err;
  }
}
