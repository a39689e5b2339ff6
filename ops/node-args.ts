/**
 * Node's flags for the worker and the gateway that `prefline up` starts (and the tests and benches start
 * alike): source-mapped stacks only when asked (PREFLINE_SOURCE_MAPS). `--enable-source-maps` costs tail
 * latency (bench/chat, demo:text at 100 users: p99 time to first token overhead 0.77× and 0.69× without it,
 * two adjacent-run pairs); the likely cause is stack formatting, which the Temporal SDK does for every
 * workflow promise it creates.
 */
export function childNodeArgs(sourceMaps: boolean): string[] {
  return sourceMaps ? ['--enable-source-maps'] : [];
}
