import type { FormattedExecutionResult } from 'graphql';

export interface SseStream<T> {
  /** Every `next` payload so far. */
  readonly results: FormattedExecutionResult<T>[];
  /** The n-th (0-based) `next` payload, waiting for it if needed. */
  nth(index: number, timeoutMs?: number): Promise<FormattedExecutionResult<T>>;
  /** Resolves when the server sends `complete` or ends the response, with the time it happened. */
  readonly ended: Promise<{ at: number; completed: boolean }>;
  close(): void;
}

/**
 * A real GraphQL-over-SSE client ("distinct connections" mode, as Yoga serves it): one
 * `POST /graphql` with `Accept: text/event-stream` per subscription, read frame by frame.
 */
export async function openSse<T = Record<string, unknown>>(
  baseUrl: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<SseStream<T>> {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  if (!response.headers.get('content-type')?.includes('text/event-stream')) {
    throw new Error(`not an event stream: ${response.status} ${await response.text()}`);
  }
  const results: FormattedExecutionResult<T>[] = [];
  const waiters: Array<() => void> = [];
  let completed = false;
  const ended = (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith('event: complete')) completed = true;
          if (!frame.startsWith('event: next')) continue;
          const data = frame.split('\n').find((line) => line.startsWith('data: '));
          if (data) results.push(JSON.parse(data.slice(6)) as FormattedExecutionResult<T>);
          for (const wake of waiters.splice(0)) wake();
        }
      }
    } catch {
      // aborted by close()
    }
    for (const wake of waiters.splice(0)) wake();
    return { at: Date.now(), completed };
  })();
  let over = false;
  void ended.then(() => (over = true));
  const nth = async (index: number, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (results.length <= index) {
      if (over) throw new Error(`the stream ended before event #${index}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for event #${index}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return results[index]!;
  };
  return { results, nth, ended, close: () => abort.abort() };
}
