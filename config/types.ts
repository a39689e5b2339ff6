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
  };
  ledger: { path: string; readHost: string; readPort: number; endpointFile: string };
  artifactDir: string;
  /** PREFLINE_IMPORT_ROOT: where `file:` candidates are read from; absent, they are refused. */
  importRoot?: string;
  releasesDir: string;
  inference: {
    replicate: { apiToken?: string; baseUrl: string; maxWaitMs: number };
    openai?: { baseUrl: string; apiKey?: string; imageModels: string[]; timeoutMs: number };
  };
  /** Rules for downloading URLs a model chose (connectors/http/safe-download.ts). */
  downloads: { allowHttpHosts: string[]; allowHosts: string[]; maxBytes: number; timeoutMs: number };
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
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'text' | 'json';
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
