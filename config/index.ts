export { loadConfig } from './config';
export { parseEmailLists } from './email';
export { ConfigError } from './read';
export { metricsEnvUnderUp } from './observability';
export { loadSecret } from './secrets';
export { ENVIRONMENT, documentedDefault, type Setting } from './settings';
export type { EmailConfig, ImapConfig, ListenAddress, PreflineConfig } from './types';
