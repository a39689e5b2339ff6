/** The shape of Prefline's configuration, as `loadConfig` reads it from the environment. */
import type { TLSConfig } from '@temporalio/client';

/** The Temporal server and how to reach it (config/temporal.ts reads it; ops/temporal-connection.ts connects). */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Port of the Web UI of the dev server `prefline up` starts. */
  uiPort: number;
  /** PREFLINE_EXTERNAL_TEMPORAL: `prefline up` uses this server instead of starting a dev server. */
  external: boolean;
  binary: string;
  /** Absent: plain text (or TLS implied by an API key); false: TLS turned off; true or options: TLS. */
  tls?: TLSConfig | boolean;
  /** Sent as a bearer token. Never logged. */
  apiKey?: string;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_*, a profile's grpc_meta). */
  metadata?: Record<string, string>;
  /** PREFLINE_TEMPORAL_UI_URL, without a trailing slash. */
  uiUrl?: string;
  /** The profile of the Temporal config file the settings came from, when a file was read. */
  profile?: { name: string; file: string };
}

export interface PreflineConfig {
  dataDir: string;
  temporal: TemporalSettings;
  taskQueue: string;
  workerQueues: Array<'workflows' | 'inference' | 'ledger'>;
  inferenceConcurrency: number;
  gateway: {
    host: string;
    port: number;
    publicUrl: string;
    accessCode?: string;
    sessionTtlMs: number;
    /** Typed-name sign-in for unverified raters. */
    openPanel: boolean;
    /** The invite registry (gateway/invite-registry.ts), shared by the CLI and the gateway. */
    invitesDir: string;
    /** How long a new invite link is valid unless `--expires` says otherwise. */
    inviteTtlMs: number;
    oidc?: { issuer: string; clientId: string; clientSecret?: string; scopes: string };
    trustProxyHops: number;
    limits: { signInsPerHour: number; votesPerMinute: number };
    /** The rating page's prompt box (config/starts.ts); absent without PREFLINE_WEB_START_MODELS. */
    starts?: WebStartsConfig;
  };
  ledger: { path: string; readHost: string; readPort: number; endpointFile: string };
  /** The chat page and conversations (docs/chat.md). */
  chat: {
    /** PREFLINE_GATEWAY_INTERNAL_URL: where inference workers reach this gateway to stream replies (its own address by default). */
    internalUrl: string;
    models: string[];
    reasonTags: string[];
    idleTimeout: string;
    /** PREFLINE_CHAT_LEDGER_LAG in ms: the conversations' `thresholds.commitAfterMs`. */
    commitAfterMs: number;
    messagesPerMinute: number;
    maxMessageChars: number;
    contextMessages: number;
    demoTokenMs: number;
  };
  artifactDir: string;
  /** PREFLINE_IMPORT_ROOT: where `file:` candidates are read from; absent, they are refused. */
  importRoot?: string;
  releasesDir: string;
  /** What releases' dataset cards declare (PREFLINE_RELEASE_LICENSE, PREFLINE_RELEASE_LANGUAGE). */
  releaseCard: { license?: string; languages: string[] };
  inference: {
    replicate: { apiToken?: string; baseUrl: string; maxWaitMs: number };
    openai?: { baseUrl: string; apiKey?: string; imageModels: string[]; timeoutMs: number };
  };
  /** Rules for downloading URLs a model chose (connectors/http/safe-download.ts). */
  downloads: { allowHttpHosts: string[]; allowHosts: string[]; maxBytes: number; timeoutMs: number };
  /** Campaign webhooks (connectors/webhook.ts): without a secret none is called. */
  /** `receivers`: PREFLINE_WEBHOOKS, name → URL; a campaign's `notify.webhook` names one. */
  webhooks: { secret?: string; receivers: Record<string, string>; allowHttpHosts: string[]; allowHosts: string[]; timeoutMs: number };
  /** Present when any PREFLINE_SLACK_* variable is set. */
  slack?: {
    botToken?: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl: string;
    allowedUsers: string[];
    allowedUsergroup?: string;
    /** Teams (workspaces, `T…`, or Enterprise Grid orgs, `E…`) whose votes count; absent: the bot token's own team. */
    teamIds?: string[];
    /** Origins a click's `response_url` may be on; absent: Slack's (hooks.slack.com) and PREFLINE_SLACK_API_URL's. */
    responseUrlOrigins?: string[];
    /** The gateway's delivery journal (delivery-journal.ts). */
    journalDir: string;
    /** The `/prefline` command (config/starts.ts). */
    commands: SlackCommandsConfig;
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'text' | 'json';
  /** PREFLINE_SOURCE_MAPS: the processes `prefline up` starts run with `--enable-source-maps`. */
  sourceMaps: boolean;
  /** The ops endpoints (`/metrics`, `/healthz`) of worker and gateway processes; absent: off. */
  metrics: { worker?: ListenAddress; gateway?: ListenAddress };
  /** The email channel; present when PREFLINE_SMTP_HOST, PREFLINE_EMAIL_INBOUND_PORT or PREFLINE_IMAP_HOST is set. */
  email?: EmailConfig;
}

/** Where a listener binds: `port` 0 is a free one. */
export interface ListenAddress {
  host: string;
  port: number;
}

export interface EmailConfig {
  /** Outbound mail (workers send invitations; the gateway sends auto-answers). Absent without PREFLINE_SMTP_HOST. */
  smtp?: {
    host: string;
    port: number;
    secure: boolean;
    requireTLS: boolean;
    user?: string;
    pass?: string;
    maxConnections: number;
    rateLimit: number;
    dkim?: { domainName: string; keySelector: string; privateKeyFile: string };
    tlsCaFile?: string;
  };
  from?: { name?: string; address: string };
  /** Domain of signed reply addresses; without it mails offer links only. */
  inboundDomain?: string;
  /** The gateway's inbound SMTP listener. */
  inbound?: { host: string; port: number; maxBytes: number; tls?: { keyFile: string; certFile: string } };
  /** The gateway's IMAP poller for replies (instead of the SMTP listener). */
  imap?: ImapConfig;
  lists: Record<string, string[]>;
  closingNote: boolean;
  stateDir: string;
}

export interface ImapConfig {
  host: string;
  port: number;
  /** tls: implicit TLS; starttls: STARTTLS required; none: cleartext. */
  security: 'tls' | 'starttls' | 'none';
  /** PEM file of the CA to trust instead of the system's. */
  caFile?: string;
  user: string;
  password: string;
  mailbox: string;
  processedMailbox?: string;
  pollMs: number;
  /** Larger replies are marked processed without being downloaded. */
  maxBytes: number;
}

/** Slack user ids and user group ids. */
export interface SlackMembers {
  users: string[];
  usergroups: string[];
}

/** What `/prefline <prompt>` uses in a channel unless its flags say otherwise. */
export interface SlackChannelDefaults {
  model?: string;
  candidates?: number;
  votesPerCandidate?: number;
  /** A duration, e.g. `2h`. */
  deadline?: string;
}

export interface SlackCommandsConfig {
  /** Who may start lifecycles (PREFLINE_SLACK_STARTERS); absent: nobody. */
  starters?: SlackMembers;
  /** Who may close any lifecycle (PREFLINE_SLACK_OPS). */
  ops: SlackMembers;
  /** Models a start may use; the first is the default. */
  models: string[];
  /** By channel id, and `*` for every other channel. */
  channelDefaults: Record<string, SlackChannelDefaults>;
  /** Starts per user and hour; 0 for no limit. */
  startsPerHour: number;
}

export interface WebStartsConfig {
  /** Models the prompt box offers. */
  models: string[];
  /** Starts per rater and hour; 0 for no limit. */
  startsPerHour: number;
  /** Candidates per rater and UTC day; 0 for no limit. */
  dailyCandidates: number;
  /** Where the daily counts are kept (core/generation-budget.ts), shared by every gateway. */
  budgetDir: string;
  /** Verified addresses or `@domains` of OIDC raters who may generate. */
  oidcGenerators: string[];
}
