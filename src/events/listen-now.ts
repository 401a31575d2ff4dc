/**
 * Starts listening at once, optionally keeping only the events `keep` accepts. Yoga's pub/sub
 * adds its event listener only when the stream is first read, which graphql-ws does a moment
 * after the operation is set up; a client that subscribes and then asks for what it missed
 * (API.md: catch-up after a reconnect) must not lose a message published in between. Reading
 * the first event early registers the listener now; that pending read is handed to the first
 * real `next()`. Filtering here, rather than with another Repeater stage, keeps each delivered
 * event to one promise hop (the chat benchmark's hot path).
 */
export function listenNow<T>(source: AsyncIterable<T>): AsyncIterableIterator<T>;
export function listenNow<T, U extends T>(source: AsyncIterable<T>, keep: (event: T) => event is U): AsyncIterableIterator<U>;
export function listenNow<T>(source: AsyncIterable<T>, keep: (event: T) => boolean): AsyncIterableIterator<T>;
export function listenNow<T>(source: AsyncIterable<T>, keep?: (event: T) => boolean): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined = iterator.next();
  pending.catch(() => {}); // the consumer's own next() sees a failure; it is not unhandled meanwhile
  const read = () => {
    const first = pending;
    pending = undefined;
    return first ?? iterator.next();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      for (;;) {
        const result = await read();
        if (result.done || !keep || keep(result.value)) return result;
      }
    },
    async return(value?: unknown) {
      pending = undefined;
      await iterator.return?.(value);
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      pending = undefined;
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
}
