/**
 * Task queue names. Activity queues derive from the lifecycle's own queue, so one setting
 * (`PREFLINE_TASK_QUEUE`) moves a whole deployment, and GPU hosts poll only `<queue>-inference`.
 */
export const DEFAULT_TASK_QUEUE = 'prefline';
export const inferenceQueue = (base: string): string => `${base}-inference`;
export const ledgerQueue = (base: string): string => `${base}-ledger`;
