/**
 * Every environment variable Prefline reads, with its default and its meaning: the one place defaults
 * are stated. `loadConfig` takes its defaults from here, and the README's table of environment
 * variables shows `documentedDefault` of each row (test/docs/readme.test.ts keeps them equal).
 */

export interface Setting {
  name: string;
  /**
   * The value used when the variable is unset or empty, spelled as the variable would be. `<data>`
   * stands for PREFLINE_DATA_DIR; `<host>` and `<port>` for the gateway's reachable address.
   * Absent when there is none: the feature stays off, or the value is required, generated or derived.
   */
  default?: string;
  /** The default in another mode (implicit TLS or not), and that mode in words. */
  otherwise?: { default: string; when: string };
  /** Defaults to the value of this other setting. */
  sameAs?: string;
  /** What the documented default adds in parentheses: what "unset" means, or where a generated value lives. */
  note?: string;
  description: string;
}

export const ENVIRONMENT: readonly Setting[] = [
  { name: 'PREFLINE_DATA_DIR', default: './.prefline', description: 'Where all state lives: Temporal SQLite file, DuckDB ledger, artifacts, keys, logs.' },
  { name: 'PREFLINE_TEMPORAL_ADDRESS', default: '127.0.0.1:7233', note: 'unless TEMPORAL_ADDRESS or the Temporal profile sets one', description: 'Temporal frontend (host:port); wins over TEMPORAL_ADDRESS and the profile. `prefline up` starts a dev server here unless PREFLINE_EXTERNAL_TEMPORAL=1.' },
  { name: 'PREFLINE_TEMPORAL_NAMESPACE', default: 'default', note: 'unless TEMPORAL_NAMESPACE or the Temporal profile sets one', description: 'Temporal namespace; wins over TEMPORAL_NAMESPACE and the profile.' },
  { name: 'PREFLINE_TEMPORAL_UI_PORT', default: '8233', description: 'Port of the Temporal Web UI started by `prefline up`.' },
  { name: 'PREFLINE_TEMPORAL_UI_URL', note: 'the dev server\'s UI on PREFLINE_TEMPORAL_UI_PORT; none with PREFLINE_EXTERNAL_TEMPORAL=1', description: 'Base URL of the Temporal Web UI (your cluster\'s UI, or https://cloud.temporal.io): the CLI prints `<url>/namespaces/<namespace>/workflows/<id>` for what it starts.' },
  { name: 'PREFLINE_EXTERNAL_TEMPORAL', default: '0', description: 'Set to 1 to use an existing Temporal server/cluster instead of starting a dev server.' },
  { name: 'TEMPORAL_ADDRESS', note: 'the profile\'s address', description: 'Temporal frontend (host:port), read as the temporal CLI and the SDKs read it; PREFLINE_TEMPORAL_ADDRESS wins over it, it wins over the profile.' },
  { name: 'TEMPORAL_NAMESPACE', note: 'the profile\'s namespace', description: 'Temporal namespace; PREFLINE_TEMPORAL_NAMESPACE wins over it, it wins over the profile.' },
  { name: 'TEMPORAL_API_KEY', note: 'the profile\'s api_key', description: 'API key (Temporal Cloud), sent as a bearer token; it turns TLS on. Never logged.' },
  { name: 'TEMPORAL_TLS', note: 'on with an API key or any TLS setting', description: '1 for TLS with the system\'s CAs and nothing else to set; 0 turns TLS off.' },
  { name: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', note: 'system CAs', description: 'PEM file of the CA the server certificate must chain to (a private CA).' },
  { name: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', description: 'The same CA as PEM text instead of a file.' },
  { name: 'TEMPORAL_TLS_SERVER_NAME', note: 'the host of the address', description: 'Name the server certificate must carry (TLS SNI), e.g. when the address is an IP.' },
  { name: 'TEMPORAL_TLS_CLIENT_CERT_PATH', description: 'Client certificate (PEM file) for mutual TLS, with TEMPORAL_TLS_CLIENT_KEY_PATH.' },
  { name: 'TEMPORAL_TLS_CLIENT_CERT_DATA', description: 'The client certificate as PEM text instead of a file.' },
  { name: 'TEMPORAL_TLS_CLIENT_KEY_PATH', description: 'Private key (PEM file) of the client certificate. Never logged.' },
  { name: 'TEMPORAL_TLS_CLIENT_KEY_DATA', description: 'The private key as PEM text instead of a file. Never logged.' },
  { name: 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION', default: '0', description: 'Not supported by the TypeScript SDK: 1 is refused at startup (set TEMPORAL_TLS_SERVER_NAME instead).' },
  { name: 'TEMPORAL_PROFILE', note: '`default`', description: 'Profile of the Temporal config file to use; naming one that the file lacks is refused.' },
  { name: 'TEMPORAL_CONFIG_FILE', note: '~/.config/temporalio/temporal.toml, if it exists', description: 'The Temporal config file (TOML, as `temporal config` writes it); a file named here must exist.' },
  { name: 'PREFLINE_TASK_QUEUE', default: 'prefline', description: 'Task queue of lifecycles; inference and ledger activities use `<queue>-inference` and `<queue>-ledger`.' },
  { name: 'PREFLINE_WORKER_QUEUES', default: 'workflows,inference,ledger', description: 'Which queues this worker process polls. Exactly one process may serve `ledger`.' },
  { name: 'PREFLINE_INFERENCE_CONCURRENCY', default: '4', description: 'Max concurrent inference activities per worker.' },
  { name: 'PREFLINE_GATEWAY_HOST', default: '127.0.0.1', description: 'Interface the gateway (rating page and vote API) binds.' },
  { name: 'PREFLINE_GATEWAY_PORT', default: '8080', description: 'Port of the gateway.' },
  { name: 'PREFLINE_PUBLIC_URL', default: 'http://<host>:<port>', description: 'URL raters use to reach the gateway (for links in posts).' },
  { name: 'PREFLINE_RATER_KEY', note: 'generated into <data>/secrets/rater.key', description: 'Secret key of the keyed hash that pseudonymises rater identities. Keep it stable.' },
  { name: 'PREFLINE_SESSION_KEY', note: 'generated into <data>/secrets/session.key', description: 'Secret key that signs rater session tokens of the web page.' },
  { name: 'PREFLINE_INVITE_KEY', note: 'generated into <data>/secrets/invite.key', description: 'Secret key that signs invite links (`prefline raters invite`). The CLI and the gateway must share it; changing it voids every link.' },
  { name: 'PREFLINE_INVITES_DIR', default: '<data>/invites', description: 'The invite registry (labels, campaigns, expiry, revocations); the CLI and the gateway must share it. See docs/web.md.' },
  { name: 'PREFLINE_INVITE_TTL', default: '30d', description: 'How long a new invite link stays valid unless `--expires` is given.' },
  { name: 'PREFLINE_WEB_OPEN_PANEL', default: '0', description: '1 to let anyone sign in on the rating page by typing a name: an open panel whose votes are marked unverified (`rater_auth = open`) in the ledger and releases.' },
  { name: 'PREFLINE_WEB_ACCESS_CODE', description: 'If set, typing a name on the open panel also needs this code (wrong codes are limited to 10 per hour per client address).' },
  { name: 'PREFLINE_SESSION_TTL', default: '30d', description: 'How long a rater session token of the web page stays valid (an invite\'s session ends with the invite).' },
  { name: 'PREFLINE_OIDC_ISSUER', note: 'none: no OIDC sign-in', description: 'Issuer URL of an OpenID Connect provider: the rating page offers "Sign in with" it (authorization code + PKCE; redirect URI `<PREFLINE_PUBLIC_URL>/auth/callback`). https, or http on loopback.' },
  { name: 'PREFLINE_OIDC_CLIENT_ID', note: 'required with PREFLINE_OIDC_ISSUER', description: 'The client id registered with the provider.' },
  { name: 'PREFLINE_OIDC_CLIENT_SECRET', description: 'The client secret (or PREFLINE_OIDC_CLIENT_SECRET_FILE); without either, a public client using PKCE only.' },
  { name: 'PREFLINE_OIDC_CLIENT_SECRET_FILE', description: 'File holding the client secret (a trailing newline is ignored).' },
  { name: 'PREFLINE_OIDC_SCOPES', default: 'openid email profile', description: 'Scopes asked for; a verified `email` claim makes the rater the same pseudonym as on the email channel.' },
  { name: 'PREFLINE_TRUST_PROXY_HOPS', default: '0', description: 'Reverse proxies in front of the gateway whose X-Forwarded-For is trusted for the client address that rate limits count by; 0 uses the socket address.' },
  { name: 'PREFLINE_WEB_SIGNINS_PER_HOUR', default: '30', description: 'Sign-in attempts (typed names, invite links, OIDC) per client address and hour, in bursts of as many; 0 for no limit. Over it: 429 with Retry-After.' },
  { name: 'PREFLINE_WEB_VOTES_PER_MINUTE', default: '60', description: 'Votes per rater and minute on the rating page; 0 for no limit. Over it: 429 with Retry-After.' },
  { name: 'PREFLINE_GATEWAY_INTERNAL_URL', default: 'http://<host>:<port>', description: 'URL inference workers reach this gateway at, to stream chat replies to the page while they are written (each gateway process its own).' },
  { name: 'PREFLINE_STREAM_KEY', note: 'generated into <data>/secrets/stream.key', description: 'Secret key that signs the pieces of chat replies inference workers stream to the gateway. Gateways and inference workers must share it; never in workflow history.' },
  { name: 'PREFLINE_CHAT_MODELS', default: 'demo:text', description: 'Comma-separated models the chat page offers (`demo:text`, `openai:<model>`); the first is preselected.' },
  { name: 'PREFLINE_CHAT_REASON_TAGS', default: 'incorrect,unhelpful,unsafe,too long,off topic', description: 'Comma-separated reason tags a 👍/👎 on a chat reply may carry.' },
  { name: 'PREFLINE_CHAT_IDLE_TIMEOUT', default: '30m', description: 'A chat conversation without activity this long ends (its owner can reopen it).' },
  { name: 'PREFLINE_CHAT_LEDGER_LAG', default: '30s', description: 'The longest a chat event (message, reply, rating…) waits before it is committed to the ledger, from 0s to 60s; the events of a conversation within it share one commit. Shorter: `prefline chat show` sees live conversations sooner, at more work per turn.' },
  { name: 'PREFLINE_CHAT_MESSAGES_PER_MINUTE', default: '20', description: 'Chat messages (and new conversations) per rater and minute; 0 for no limit. Over it: 429 with Retry-After.' },
  { name: 'PREFLINE_CHAT_MAX_MESSAGE_CHARS', default: '8000', description: 'Longest chat message, feedback or correction a rater may send (characters).' },
  { name: 'PREFLINE_CHAT_CONTEXT_MESSAGES', default: '40', description: 'Messages of a conversation the model sees (the newest ones).' },
  { name: 'PREFLINE_CHAT_DEMO_TOKEN_MS', default: '15', description: 'Pause before each word of a `demo:text` chat reply, so streaming is visible offline.' },
  { name: 'PREFLINE_WEB_START_MODELS', note: 'none: no prompt box', description: 'Comma-separated models (`demo:shapes`, `replicate:owner/name`, …) the rating page\'s prompt box offers to raters allowed to generate (invites made with `--can-generate`, PREFLINE_OIDC_GENERATORS). See docs/web.md.' },
  { name: 'PREFLINE_WEB_STARTS_PER_HOUR', default: '10', description: 'Lifecycles one rater may start from the prompt box per hour, in bursts of as many; 0 for no limit. Over it: 429 with Retry-After.' },
  { name: 'PREFLINE_WEB_DAILY_CANDIDATES', default: '32', description: 'Candidates one rater may generate from the prompt box per UTC day (the generation budget); 0 for no limit.' },
  { name: 'PREFLINE_WEB_BUDGET_DIR', default: '<data>/generation-budget', description: 'Where the generation budget is counted (one small file per candidate); every gateway must share it.' },
  { name: 'PREFLINE_OIDC_GENERATORS', description: 'Comma-separated verified email addresses (or `@domain`s) of OIDC raters who may use the prompt box; it takes effect at their next sign-in.' },
  { name: 'PREFLINE_LEDGER_PATH', default: '<data>/ledger.duckdb', description: 'The DuckDB ledger file (opened read-write by the ledger worker only).' },
  { name: 'PREFLINE_LEDGER_READ_HOST', default: '127.0.0.1', description: 'Interface of the ledger worker\'s read-only query endpoint (used by `prefline query`).' },
  { name: 'PREFLINE_LEDGER_READ_PORT', default: '0', note: 'random; advertised in <data>/ledger-endpoint.json', description: 'Port of that endpoint.' },
  { name: 'PREFLINE_RELEASES_DIR', default: '<data>/releases', description: 'Dated, immutable parquet releases (`prefline release`); `latest` points at the newest.' },
  { name: 'PREFLINE_RELEASE_LICENSE', note: 'none: the dataset card says `license: unknown`', description: 'License the releases\' dataset card declares: a Hugging Face license id such as `cc-by-4.0`, `apache-2.0` or `other`.' },
  { name: 'PREFLINE_RELEASE_LANGUAGE', note: 'none declared', description: 'Comma-separated languages (ISO 639 codes such as `en`, `de`, `pt-BR`) of the prompts and texts; the dataset card declares them.' },
  { name: 'PREFLINE_ARTIFACT_DIR', default: '<data>/artifacts', description: 'Content-addressed artifact store (must be shared by inference workers and the gateway).' },
  { name: 'PREFLINE_IMPORT_ROOT', note: 'none: `file:` candidates are refused', description: 'Folder whose files lifecycles may bring as candidates (`"ref": "file:<path under it>"`); read by inference workers, which refuse paths that leave it (`..`, absolute paths, symbolic links out).' },
  { name: 'PREFLINE_TEMPORAL_BIN', default: './.tools/bin/temporal', description: 'The Temporal CLI binary (built by scripts/install-temporal.sh).' },
  { name: 'REPLICATE_API_TOKEN', description: 'Replicate API token for `replicate:` models. Read by inference workers only; never in workflow input or history.' },
  { name: 'PREFLINE_REPLICATE_BASE_URL', default: 'https://api.replicate.com/v1', description: 'Replicate API base URL.' },
  { name: 'PREFLINE_REPLICATE_MAX_WAIT', default: '10m', description: 'How long one prediction may run before the attempt is retried (the retry resumes the same prediction).' },
  { name: 'PREFLINE_OPENAI_BASE_URL', description: 'Base URL of an OpenAI-compatible server for `openai:` models, e.g. http://gpu-host:8000/v1 (vLLM, TGI, Ollama, LocalAI).' },
  { name: 'PREFLINE_OPENAI_API_KEY', description: 'Bearer key for that server, if it needs one.' },
  { name: 'PREFLINE_OPENAI_IMAGE_MODELS', description: 'Comma-separated `openai:` models that produce images (images/generations); others are chat models.' },
  { name: 'PREFLINE_OPENAI_TIMEOUT', default: '120s', description: 'Timeout of one request to the OpenAI-compatible server.' },
  { name: 'PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS', note: 'https only', description: 'Comma-separated hosts (names, IP addresses or CIDR ranges) whose model outputs may be downloaded over plain http.' },
  { name: 'PREFLINE_DOWNLOAD_ALLOW_HOSTS', note: 'no private addresses', description: 'Comma-separated hosts or CIDR ranges exempt from the address rules of output downloads (loopback, private, link-local/metadata, unique-local, multicast refused after DNS resolution): model servers you run on a private network.' },
  { name: 'PREFLINE_DOWNLOAD_MAX_BYTES', default: '67108864', description: 'Largest output file downloaded (64 MiB); bigger ones fail the candidate without being read past the cap.' },
  { name: 'PREFLINE_DOWNLOAD_TIMEOUT', default: '120s', description: 'Timeout of one output download, redirects included.' },
  { name: 'PREFLINE_WEBHOOKS', note: 'none: campaign webhooks refused', description: 'Campaign webhook receivers by name, `name=URL` comma-separated (a comma in a URL as %2C), e.g. `results=https://hooks.example.com/prefline?token=…`. A campaign\'s `notify.webhook` names one; the URL (and any token in it) stays on the workflows workers, out of workflow history. See docs/campaigns.md.' },
  { name: 'PREFLINE_WEBHOOK_SECRET', note: 'none: campaign webhooks refused', description: 'HMAC-SHA256 key (at least 16 characters) that signs campaign webhook deliveries (`Prefline-Signature`); receivers check with the same secret. Set it on the workflows workers. See docs/campaigns.md.' },
  { name: 'PREFLINE_WEBHOOK_ALLOW_HTTP_HOSTS', note: 'https only', description: 'Comma-separated hosts (names, IP addresses or CIDR ranges) a campaign webhook may call over plain http.' },
  { name: 'PREFLINE_WEBHOOK_ALLOW_HOSTS', note: 'no private addresses', description: 'Comma-separated hosts or CIDR ranges exempt from the address rules of campaign webhooks (loopback, private, link-local/metadata, unique-local, multicast refused after DNS resolution): receivers you run on a private network.' },
  { name: 'PREFLINE_WEBHOOK_TIMEOUT', default: '10s', description: 'Timeout of one webhook attempt; a timed-out attempt is retried.' },
  { name: 'PREFLINE_SLACK_BOT_TOKEN', description: 'Bot token (`xoxb-…`) of the Prefline Slack app. Workers post `slack:` lifecycles with it; the gateway learns its own identity and rater groups with it. See docs/slack.md.' },
  { name: 'PREFLINE_SLACK_SIGNING_SECRET', description: 'Signing secret of the Slack app. Set on the gateway to serve POST /slack/events and /slack/interactivity (signatures checked over the raw body). A blank value is refused at startup.' },
  { name: 'PREFLINE_SLACK_APP_TOKEN', description: 'App-level token (`xapp-…`, scope connections:write): the gateway receives Slack events over Socket Mode instead of a public URL.' },
  { name: 'PREFLINE_SLACK_API_URL', default: 'https://slack.com/api/', description: 'Slack Web API base URL (tests point it at a stand-in).' },
  { name: 'PREFLINE_SLACK_ALLOWED_USERS', note: 'everyone in the channel', description: 'Comma-separated Slack user ids (U…) whose votes count. Others get "you are not on the rater list" (buttons) or are ignored (reactions).' },
  { name: 'PREFLINE_SLACK_JOURNAL_DIR', default: '<data>/slack-journal', description: 'Where the gateway journals Slack deliveries before acknowledging them, so none is lost if it stops before forwarding; the next gateway on the same host replays them. Local disk of the gateway host.' },
  { name: 'PREFLINE_SLACK_ALLOWED_USERGROUP', description: 'A Slack user group id (S…) whose members may vote, in addition to PREFLINE_SLACK_ALLOWED_USERS (needs usergroups:read).' },
  { name: 'PREFLINE_SLACK_TEAM_IDS', note: 'the bot token\'s own team', description: 'Comma-separated Slack team ids (T…, or Enterprise Grid org ids E…) whose reactions and clicks count; votes from other teams (Slack Connect channels) are refused, never counted.' },
  { name: 'PREFLINE_SLACK_RESPONSE_URL_ORIGINS', note: 'https://hooks.slack.com and the origin of PREFLINE_SLACK_API_URL', description: 'Comma-separated origins a click\'s `response_url` may be on; an answer to any other is sent with chat.postEphemeral instead (http:// only on loopback, for stand-ins).' },
  { name: 'PREFLINE_SLACK_STARTERS', note: 'nobody: /prefline starts nothing', description: 'Comma-separated Slack user ids (U…) and user group ids (S…, needs usergroups:read) who may start lifecycles with `/prefline <prompt>`; separate from who may vote.' },
  { name: 'PREFLINE_SLACK_OPS', description: 'Comma-separated Slack user ids (U…) and user group ids (S…) who may `/prefline close` any lifecycle (starters may close their own).' },
  { name: 'PREFLINE_SLACK_START_MODELS', note: 'required with PREFLINE_SLACK_STARTERS', description: 'Comma-separated models `/prefline` may start (`--model`, `--vs`); the first is the default.' },
  { name: 'PREFLINE_SLACK_CHANNEL_DEFAULTS', description: 'Per-channel defaults of `/prefline`: JSON (or a JSON file) like `{"C0123ABCD": {"model": "demo:shapes", "candidates": 4, "votesPerCandidate": 3, "deadline": "2h"}, "*": {…}}`.' },
  { name: 'PREFLINE_SLACK_STARTS_PER_HOUR', default: '10', description: 'Lifecycles one Slack user may start per hour, in bursts of as many; 0 for no limit.' },
  { name: 'PREFLINE_SMTP_HOST', description: 'SMTP server for the email channel (`email:` lifecycles). Without it, workers refuse email lifecycles.' },
  { name: 'PREFLINE_SMTP_PORT', default: '587', otherwise: { default: '465', when: 'with PREFLINE_SMTP_SECURE=1' }, description: 'SMTP port.' },
  { name: 'PREFLINE_SMTP_SECURE', default: '0', description: '1 for implicit TLS (port 465); otherwise STARTTLS is used when the server offers it.' },
  { name: 'PREFLINE_SMTP_REQUIRE_TLS', default: '0', description: '1 to refuse sending unless STARTTLS succeeds.' },
  { name: 'PREFLINE_SMTP_TLS_CA', note: 'system CAs', description: 'PEM file of the CA (or self-signed certificate) to trust for the SMTP server, e.g. a private relay.' },
  { name: 'PREFLINE_SMTP_USER', description: 'SMTP AUTH user.' },
  { name: 'PREFLINE_SMTP_PASS', description: 'SMTP AUTH password.' },
  { name: 'PREFLINE_SMTP_POOL', default: '5', description: 'Pooled SMTP connections per worker; 0 opens one connection per message.' },
  { name: 'PREFLINE_SMTP_RATE_LIMIT', default: '0', note: 'no limit', description: 'Messages per second across the pool.' },
  { name: 'PREFLINE_EMAIL_FROM', note: 'required with PREFLINE_SMTP_HOST', description: 'Sender, e.g. `Prefline <ratings@example.com>`; its domain names Message-IDs.' },
  { name: 'PREFLINE_DKIM_DOMAIN', description: 'DKIM signing domain (set all three PREFLINE_DKIM_* or none).' },
  { name: 'PREFLINE_DKIM_SELECTOR', description: 'DKIM selector.' },
  { name: 'PREFLINE_DKIM_PRIVATE_KEY_FILE', description: 'PEM file of the DKIM private key.' },
  { name: 'PREFLINE_EMAIL_INBOUND_DOMAIN', description: 'Domain whose mail reaches the gateway\'s inbound SMTP listener; mails get a signed `vote+…@<domain>` Reply-To. Without it, mails offer links only.' },
  { name: 'PREFLINE_EMAIL_INBOUND_PORT', note: 'none: no listener', description: 'Port of the gateway\'s inbound SMTP listener for replies (needs PREFLINE_EMAIL_INBOUND_DOMAIN).' },
  { name: 'PREFLINE_EMAIL_INBOUND_HOST', sameAs: 'PREFLINE_GATEWAY_HOST', description: 'Interface the inbound SMTP listener binds.' },
  { name: 'PREFLINE_EMAIL_INBOUND_MAX_BYTES', default: '2097152', description: 'Largest reply accepted; bigger ones are refused with 552 (SMTP) or marked processed without being downloaded (IMAP).' },
  { name: 'PREFLINE_EMAIL_INBOUND_TLS_KEY', description: 'PEM key file; with PREFLINE_EMAIL_INBOUND_TLS_CERT, the listener offers STARTTLS (disabled otherwise).' },
  { name: 'PREFLINE_EMAIL_INBOUND_TLS_CERT', description: 'PEM certificate file for STARTTLS.' },
  { name: 'PREFLINE_IMAP_HOST', note: 'none: no poller', description: 'IMAP server whose mailbox receives the replies: the gateway polls it instead of listening for SMTP (needs PREFLINE_EMAIL_INBOUND_DOMAIN; not together with PREFLINE_EMAIL_INBOUND_PORT). See docs/email.md.' },
  { name: 'PREFLINE_IMAP_PORT', default: '993', otherwise: { default: '143', when: 'unless PREFLINE_IMAP_SECURE=tls' }, description: 'IMAP port.' },
  { name: 'PREFLINE_IMAP_SECURE', default: 'tls', description: '`tls` (implicit TLS), `starttls` (required) or `none` (cleartext: only for a server on the same host).' },
  { name: 'PREFLINE_IMAP_TLS_CA', note: 'system CAs', description: 'PEM file of the CA (or self-signed certificate) the IMAP server\'s certificate must chain to.' },
  { name: 'PREFLINE_IMAP_USER', note: 'required with PREFLINE_IMAP_HOST', description: 'IMAP login user.' },
  { name: 'PREFLINE_IMAP_PASSWORD', description: 'IMAP password (or PREFLINE_IMAP_PASSWORD_FILE; exactly one of them). Never logged.' },
  { name: 'PREFLINE_IMAP_PASSWORD_FILE', description: 'File holding the IMAP password (a trailing newline is ignored).' },
  { name: 'PREFLINE_IMAP_MAILBOX', default: 'INBOX', description: 'Mailbox the replies arrive in; unread (no \\Seen flag) messages are the ones to process.' },
  { name: 'PREFLINE_IMAP_PROCESSED_MAILBOX', note: 'none: processed replies stay, flagged \\Seen', description: 'Mailbox processed replies are moved to (created if missing; a full path with the server\'s hierarchy separator).' },
  { name: 'PREFLINE_IMAP_POLL_SECONDS', default: '60', description: 'Seconds between passes over the mailbox; new mail is noticed at once where the server has IDLE, and deferred replies are retried at this pace.' },
  { name: 'PREFLINE_EMAIL_LISTS', description: 'Named rater lists for `email:@name`: `reviewers=a@x,b@y;leads=c@z`, inline JSON `{"reviewers":["a@x"]}`, or a path to such a JSON file.' },
  { name: 'PREFLINE_EMAIL_TOKEN_KEY', note: 'generated into <data>/secrets/email-token.key', description: 'Key that signs vote links, unsubscribe links and reply addresses. Workers and gateway must share it.' },
  { name: 'PREFLINE_EMAIL_CLOSING_NOTE', default: '0', description: '1 to mail raters the result when a lifecycle closes.' },
  { name: 'PREFLINE_EMAIL_STATE_DIR', default: '<data>/email', description: 'Send records, opt-outs and reply mappings; workers and gateway must share it.' },
  { name: 'PREFLINE_FAULT_INJECT', description: 'Test-only fault injection, e.g. `crash-after-commit:<marker file>` kills the ledger worker once right after a commit is durable (crash tests).' },
  { name: 'PREFLINE_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error.' },
  { name: 'PREFLINE_SOURCE_MAPS', default: '0', description: 'Set to 1 to have the worker and gateway `prefline up` starts map stack traces in their logs to the TypeScript source (`node --enable-source-maps`). Off by default, as measured: it slows tail latency (bench/chat, demo:text at 100 users: p99 time to first token overhead 0.77× and 0.69× without, in two adjacent-run pairs).' },
  { name: 'PREFLINE_LOG_FORMAT', default: 'text', description: '`text`: one readable line per entry (error stacks only at debug level); `json`: one object per line with an ISO time with zone, level, component, message and fields, every error with its stack and causes. Secrets are never logged.' },
  { name: 'PREFLINE_WORKER_METRICS_ADDRESS', otherwise: { default: '127.0.0.1:9464', when: 'under `prefline up`; otherwise none: off' }, description: 'host:port of a worker\'s ops endpoint: `GET /metrics` (Prometheus: the Temporal SDK\'s metrics and Prefline\'s counters) and `GET /healthz` (Temporal reachable, every queue\'s worker running). Port 0 picks a free one (logged); `off` turns it off. See docs/observability.md.' },
  { name: 'PREFLINE_GATEWAY_METRICS_ADDRESS', otherwise: { default: '127.0.0.1:9465', when: 'under `prefline up`; otherwise none: off' }, description: 'host:port of the gateway\'s ops endpoint, apart from the rating page: `GET /metrics` (HTTP requests, votes forwarded and refused, the Temporal client\'s metrics) and `GET /healthz`. Port 0 picks a free one (logged); `off` turns it off.' },
];

const BY_NAME = new Map(ENVIRONMENT.map((setting) => [setting.name, setting]));

/** The table's row of a variable; reading a variable the table does not list is a programming error. */
export function setting(name: string): Setting {
  const found = BY_NAME.get(name);
  if (!found) throw new Error(`internal: ${name} is not in config/settings.ts`);
  return found;
}

/** The Default column of the README's table. */
export function documentedDefault(s: Setting): string {
  if (s.sameAs !== undefined) return s.sameAs;
  const note = s.otherwise ? `${s.otherwise.default} ${s.otherwise.when}` : s.note;
  if (s.default === undefined) return `(${note ?? 'none'})`;
  return note === undefined ? s.default : `${s.default} (${note})`;
}
