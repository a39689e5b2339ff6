/**
 * Readable, one-line logs for every Prefline process (`12:00:01.234 INFO  [worker] message key=value`),
 * shaped as Temporal's Logger so the SDK's own logs come out the same way.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

const QUIET = ['No Nexus services registered', 'No workflows registered', 'No activities registered', 'Worker state changed'];

const ORDER: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function createLogger(component: string, level: string, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const threshold = ORDER[level.toUpperCase()] ?? ORDER.INFO!;
  const log = (lvl: LogLevel, message: string, meta?: LogMetadata) => {
    // The SDK announces every queue it does not poll; that is by design here (one queue per worker role).
    if (QUIET.some((q) => message.startsWith(q))) lvl = 'DEBUG';
    if ((ORDER[lvl] ?? 2) < threshold) return;
    const time = new Date().toISOString().slice(11, 23);
    const fields = Object.entries(meta ?? {})
      .filter(([k, v]) => v !== undefined && !['sdkComponent', 'taskQueue', 'namespace', 'workflowType', 'activityType', 'attempt', 'isLocal', 'runId', 'taskToken', 'activityId', 'workflowRunId'].includes(k))
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    write(`${time} ${lvl.padEnd(5)} [${component}] ${message}${fields ? ' ' + fields : ''}`);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
