import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../graphql/context.js';
import { isAppError, tokenRevoked } from '../graphql/errors.js';

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The context of one subscription event: the operation's, with its own EntityManager fork,
 * made only when a resolver asks for it (an event that carries all the selection needs, the
 * usual chat message, never forks). Being a new object, it also gets new Pothos dataloaders,
 * created as a field first needs one, so counts and last messages are computed afresh for every
 * event instead of being served from the first event's cache.
 */
function eventContext(base: Context): Context {
  let em: EntityManager | undefined;
  return {
    ...base,
    get em() {
      em ??= base.services.orm.em.fork() as EntityManager;
      return em;
    },
  };
}

/**
 * Maps source events to results like graphql-js does, but `return()` reaches the source at
 * once (an async generator would wait for the next event first, keeping the pub/sub listener).
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  toResult: (event: unknown) => Promise<ExecutionResult>,
  isRevoked: () => boolean,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    finished = true;
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (finished) return { done: true, value: undefined };
      const event = await iterator.next();
      if (event.done) return finish();
      if (isRevoked()) {
        // A stream must not outlive its session, over SSE as over WebSocket.
        await finish();
        return { done: false, value: { errors: [tokenRevoked()] } };
      }
      return { done: false, value: await toResult(event.value) };
    },
    return: finish,
    async throw(error: unknown) {
      await finish();
      throw error;
    },
  };
}

/**
 * Runs each subscription event with its own context (fresh EntityManager fork and loaders)
 * and ends the stream when the subscriber's session is revoked. Unexpected resolver errors of
 * events are logged here: Yoga's execute hooks do not see them.
 */
export const useSubscriptionEventContext = (): Plugin<Context> => ({
  onSubscribe: ({ setSubscribeFn }) => {
    setSubscribeFn(async (args: ExecutionArgs) => {
      const source = await createSourceEventStream(args);
      if (!isAsyncIterable(source)) return source;
      const base = args.contextValue as Context;
      // Every subscription field is behind the loggedIn scope, so a live source means the
      // viewer was resolved (the promise is settled); null only for a field that needs none.
      const sessionId = await base.sessionId().catch(() => null);
      return mapEvents(
        source,
        async (event) => {
          const result = await execute({ ...args, rootValue: event, contextValue: eventContext(base) });
          for (const error of result.errors ?? []) {
            if (error.originalError && !isAppError(error.originalError)) {
              base.logger.error({ err: error.originalError, path: error.path }, 'unexpected error in subscription event');
            }
          }
          return result;
        },
        () => sessionId !== null && base.services.revokedSessions.has(sessionId),
      );
    });
  },
});
