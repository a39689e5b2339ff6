/**
 * The gateway's counters, through the Temporal runtime's meter, so they share the ops endpoint's
 * `/metrics` with the Temporal client's own (PREFLINE_GATEWAY_METRICS_ADDRESS): HTTP requests by route
 * and status, and votes forwarded to lifecycles by outcome, refused by code, or failed upstream.
 * Labels are bounded: route templates (never paths), known methods, channels; never ids or raters.
 */
import type { MetricMeter } from '@temporalio/common';
import { VoteRejectedError, type LifecycleDirectory } from '../core/lifecycle-directory';

export interface HttpRequestSample {
  route: string;
  method: string;
  status: number;
  ms: number;
}

export interface GatewayMetrics {
  request(sample: HttpRequestSample): void;
  directory(directory: LifecycleDirectory): LifecycleDirectory;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const CHANNELS = new Set(['web', 'slack', 'email', 'cli']);

/** A label for a client-chosen value: the known ones as they are, anything else as `other`. */
const bounded = (value: string | undefined, known: ReadonlySet<string>): string => (value !== undefined && known.has(value) ? value : 'other');

export function createGatewayMetrics(meter: MetricMeter): GatewayMetrics {
  const requests = meter.createCounter('prefline_gateway_http_requests', undefined, 'HTTP requests the gateway answered, by route template, method and status');
  const latency = meter.createHistogram('prefline_gateway_http_request_duration', 'int', 'ms', 'Time to answer an HTTP request, by route template');
  const forwarded = meter.createCounter('prefline_gateway_votes_forwarded', undefined, 'Votes a lifecycle accepted through this gateway, by channel and outcome');
  const refused = meter.createCounter('prefline_gateway_votes_refused', undefined, 'Votes refused (by the lifecycle or the gateway), by channel and code');
  const failed = meter.createCounter('prefline_gateway_votes_failed', undefined, 'Votes that could not be forwarded (upstream errors), by channel');
  return {
    request({ route, method, status, ms }) {
      requests.add(1, { route, method: bounded(method, METHODS), status: String(status) });
      latency.record(Math.max(0, Math.round(ms)), { route });
    },
    directory(inner) {
      return {
        listOpen: (limit) => inner.listOpen(limit),
        listActive: (channel, limit) => inner.listActive(channel, limit),
        status: (lifecycleId) => inner.status(lifecycleId),
        progress: (lifecycleId) => inner.progress(lifecycleId),
        start: (request) => inner.start(request),
        requestClose: (lifecycleId, request) => inner.requestClose(lifecycleId, request),
        vote: (lifecycleId, vote) => counted(vote.channel, () => inner.vote(lifecycleId, vote)),
        // Judgements are a compare lifecycle's votes: counted alike.
        judge: (lifecycleId, judgement) => counted(judgement.channel, () => inner.judge(lifecycleId, judgement)),
      };
    },
  };

  async function counted<R extends { outcome: string }>(voteChannel: string, forward: () => Promise<R>): Promise<R> {
    const channel = bounded(voteChannel, CHANNELS);
    try {
      const receipt = await forward();
      forwarded.add(1, { channel, outcome: receipt.outcome });
      return receipt;
    } catch (err) {
      if (err instanceof VoteRejectedError) refused.add(1, { channel, code: err.code });
      else failed.add(1, { channel });
      throw err;
    }
  }
}

/**
 * A route's label from its pattern: `^/api/lifecycles/([^/]+)/votes$` becomes `/api/lifecycles/*\/votes`.
 * Every group (a parameter, or alternatives) becomes `*`, so the label set is the route set.
 */
export function routeLabel(pattern: RegExp): string {
  let out = '';
  let depth = 0;
  const source = pattern.source.replace(/^\^/, '').replace(/\$$/, '');
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      if (depth === 0) out += source[i + 1] ?? '';
      i++;
    } else if (c === '(') {
      if (depth++ === 0) out += '*';
    } else if (c === ')') {
      depth--;
      if (depth === 0 && '?*+'.includes(source[i + 1] ?? '')) i++;
    } else if (depth === 0) {
      out += c;
    }
  }
  return out || '/';
}
