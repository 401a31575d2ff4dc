import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface MetricSources {
  openSockets(): number;
  outboxBacklog(): Promise<number>;
  revokedSessionsCached(): number;
  /** Messages past UNREAD_EMAIL_DELAY_SECONDS the unread-email scan has not examined yet. */
  unreadEmailsDue(): Promise<number>;
  /** Metrics kept by the modules themselves (notification counters). */
  extra: Metric[];
}

/**
 * Prometheus metrics of one app instance, in a registry of its own (tests run several apps
 * in one process). Served at GET /metrics.
 */
export class AppMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'forum_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'forum_http_request_duration_seconds',
    help: 'HTTP request latency by route.',
    labelNames: ['route'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly graphqlErrors = new Counter({
    name: 'forum_graphql_errors_total',
    help: 'GraphQL errors returned to clients, by extensions.code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'forum_' });
    const { registry } = this;
    new Gauge({
      name: 'forum_websocket_connections',
      help: 'Open WebSocket connections.',
      registers: [registry],
      collect() {
        this.set(sources.openSockets());
      },
    });
    new Gauge({
      name: 'forum_revoked_sessions_cached',
      help: 'Revoked sessions this instance holds in memory.',
      registers: [registry],
      collect() {
        this.set(sources.revokedSessionsCached());
      },
    });
    new Gauge({
      name: 'forum_unread_emails_due',
      help: 'Messages past UNREAD_EMAIL_DELAY_SECONDS that the unread-email scan has not examined yet (capped at 10000); near 0 while it keeps up.',
      registers: [registry],
      async collect() {
        this.set(await sources.unreadEmailsDue().catch(() => -1));
      },
    });
    for (const metric of sources.extra) registry.registerMetric(metric);
    new Gauge({
      name: 'forum_mail_outbox_backlog',
      help: 'Emails queued and not yet sent.',
      registers: [registry],
      async collect() {
        this.set(await sources.outboxBacklog().catch(() => -1));
      },
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ route }, seconds);
  }

  /** Counts every error of every result, HTTP and WebSocket, subscription events too, after masking. */
  plugin(): Plugin {
    const count = (result: ExecutionResult) => {
      for (const error of result.errors ?? []) {
        const code = error.extensions?.code;
        this.graphqlErrors.inc({ code: typeof code === 'string' ? code : 'UNKNOWN' });
      }
    };
    return {
      onExecutionResult: ({ result }) => {
        if (!result || Symbol.asyncIterator in result) return;
        for (const item of Array.isArray(result) ? result : [result]) count(item);
      },
      // Each event of a subscription is a result of its own (including the final TOKEN_REVOKED).
      onSubscribe: () => ({
        onSubscribeResult: () => ({ onNext: ({ result }) => count(result) }),
      }),
    };
  }
}

/** Routes as labels: a fixed set, so odd URLs cannot blow up the label space. */
export function routeOf(path: string): string {
  return ['/graphql', '/health', '/metrics', '/activate', '/reset-password', '/unsubscribe'].includes(path) ? path : 'other';
}
