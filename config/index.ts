export { loadConfig } from './config';
export { parseEmailLists } from './email';
export { ConfigError } from './read';
export { metricsEnvUnderUp } from './observability';
export { loadSecret } from './secrets';
export { ENVIRONMENT, documentedDefault, type Setting } from './settings';
export { describeTemporal, temporalConnectionOptions, temporalUiLink, usesTls, WORKER_QUEUES, type TemporalConnectionOptions } from './temporal';
export type { EmailConfig, ImapConfig, ListenAddress, PreflineConfig, TemporalSettings } from './types';
