import type { FormattedExecutionResult as GraphQLFormattedResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { withTimeout } from './time.js';

/** What graphql-ws clients hand to sinks (its extensions are `unknown`). */
export type FormattedExecutionResult<T> = GraphQLFormattedResult<T, unknown>;

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface WsConnectOptions {
  /** Sent as `?token=` in the URL. */
  token?: string;
  connectionParams?: Record<string, unknown>;
}

export interface WsConnection {
  client: Client;
  /** Resolves when the server acknowledges the connection. */
  acknowledged: Promise<void>;
  /** Resolves with the close code and reason, whoever closed the socket. */
  closed: Promise<CloseInfo>;
  isOpen(): boolean;
  dispose(): Promise<void>;
}

/**
 * A real graphql-ws client over a real socket, connecting at once and never retrying, so a
 * test sees exactly what the server did to this one connection.
 */
export function connectWs(wsUrl: string, options: WsConnectOptions = {}): WsConnection {
  const url = options.token === undefined ? wsUrl : `${wsUrl}?token=${encodeURIComponent(options.token)}`;
  let open = false;
  let acknowledge!: () => void;
  let reportClose!: (info: CloseInfo) => void;
  const acknowledged = new Promise<void>((resolve) => (acknowledge = resolve));
  const closed = new Promise<CloseInfo>((resolve) => (reportClose = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: options.connectionParams,
    onNonLazyError: () => {},
    on: {
      connected: () => {
        open = true;
        acknowledge();
      },
      closed: (event) => {
        open = false;
        const { code, reason } = event as { code: number; reason: string };
        reportClose({ code, reason: String(reason) });
      },
    },
  });
  return {
    client,
    acknowledged,
    closed,
    isOpen: () => open,
    async dispose() {
      await client.dispose();
    },
  };
}

/** Connects and waits for the acknowledgement; fails with the close reason otherwise. */
export async function connectedWs(wsUrl: string, options: WsConnectOptions = {}): Promise<WsConnection> {
  const connection = connectWs(wsUrl, options);
  const outcome = await withTimeout(Promise.race([connection.acknowledged.then(() => null), connection.closed]), 5_000, 'the connection acknowledgement');
  if (outcome) throw new Error(`connection closed: ${outcome.code} ${outcome.reason}`);
  return connection;
}

export type FormattedErrors = ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>;

export interface Subscription<T> {
  /** Every `next` payload so far. */
  readonly results: FormattedExecutionResult<T>[];
  /** The n-th (0-based) `next` payload, waiting for it if needed. */
  nth(index: number, timeoutMs?: number): Promise<FormattedExecutionResult<T>>;
  /** Resolves with the `error` message's errors, if the server sends one. */
  error: Promise<FormattedErrors>;
  /** Resolves when the server completes the operation. */
  completed: Promise<void>;
  unsubscribe(): void;
}

export function subscribe<T = Record<string, unknown>>(client: Client, query: string, variables?: Record<string, unknown>): Subscription<T> {
  const results: FormattedExecutionResult<T>[] = [];
  const waiters: Array<() => void> = [];
  let fail!: (errors: FormattedErrors) => void;
  let complete!: () => void;
  const error = new Promise<FormattedErrors>((resolve) => (fail = resolve));
  const completed = new Promise<void>((resolve) => (complete = resolve));
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        results.push(value);
        for (const wake of waiters.splice(0)) wake();
      },
      error: (value) => fail(Array.isArray(value) ? (value as FormattedErrors) : [{ message: String(value) }]),
      complete: () => complete(),
    },
  );
  const nth = (index: number, timeoutMs = 5_000) =>
    withTimeout(
      (async () => {
        while (results.length <= index) await new Promise<void>((resolve) => waiters.push(resolve));
        return results[index]!;
      })(),
      timeoutMs,
      `event #${index}`,
    );
  return { results, nth, error, completed, unsubscribe };
}

/** One query or mutation over the socket. */
export function wsRequest<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Promise<FormattedExecutionResult<T>> {
  return new Promise((resolve, reject) => {
    let result: FormattedExecutionResult<T> | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = value),
        error: (errors) => (Array.isArray(errors) ? resolve({ errors } as FormattedExecutionResult<T>) : reject(errors)),
        complete: () => (result ? resolve(result) : reject(new Error('completed without a result'))),
      },
    );
  });
}

/** A bare socket speaking the graphql-transport-ws sub-protocol, for protocol-level tests. */
export function rawSocket(wsUrl: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  // Protocol tests make the server fail sockets on purpose; an error is always followed by the
  // 'close' that `closed` reports, so it must not also crash the test as an unhandled event.
  socket.on('error', () => {});
  const closed = new Promise<CloseInfo>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const rejectedStatus = new Promise<number>((resolve) => socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  const messages: unknown[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  return { socket, opened, closed, rejectedStatus, messages };
}
