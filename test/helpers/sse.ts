import type { FormattedExecutionResult } from './ws.js';

export interface SseSubscription<T> {
  /** Every `next` payload so far. */
  readonly results: FormattedExecutionResult<T>[];
  close(): void;
}

/**
 * A subscription over SSE (GraphQL over SSE, distinct connections), collecting every `next`
 * payload as it arrives, as a browser EventSource-style client would.
 */
export function sseSubscribe<T>(url: string, token: string, query: string, variables: Record<string, unknown>): SseSubscription<T> {
  const results: FormattedExecutionResult<T>[] = [];
  const abort = new AbortController();
  void (async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!frame.startsWith('event: next')) continue;
        const data = frame.split('\n').find((line) => line.startsWith('data: '));
        if (data) results.push(JSON.parse(data.slice(6)) as FormattedExecutionResult<T>);
      }
    }
  })().catch(() => {}); // aborted at close
  return { results, close: () => abort.abort() };
}
