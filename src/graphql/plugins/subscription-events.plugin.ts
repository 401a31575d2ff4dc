import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { EntityManager } from '@mikro-orm/postgresql';
import { eventContext, type Context } from '../context.js';
import { AppError, isAppError, tokenExpired, tokenRevoked } from '../../shared/errors.js';
import type { SessionSockets } from '../../events/session-sockets.js';
import type { RevokedSessions } from '../../modules/auth/revoked-sessions.js';
import type { SessionService } from '../../modules/auth/session.service.js';
import type { ConnectionCaps } from '../../security/connection-caps.js';

/** What ends streams over SSE: the sessions' revocations, their tokens' expiry, the connection caps. */
export interface StreamGuards {
  sessions: Pick<SessionService, 'accessTokenExpiry' | 'bearerToken'>;
  revokedSessions: Pick<RevokedSessions, 'has'>;
  /** Where the container's revocation listener finds the streams to end. */
  streams: SessionSockets;
  connectionCaps: Pick<ConnectionCaps, 'acquire'>;
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** How a stream learns that it must end: its session was revoked, or its access token expired. */
interface StreamGuard {
  /** Calls `listener` once the stream must end (at once if it already must). */
  onEnd(listener: (error: AppError) => void): void;
  dispose(): void;
}

/**
 * Streams over a socket: the socket ends them. A listener, not a promise that never settles: a
 * shared pending promise keeps every reaction ever added to it, and with them every context and
 * socket that added one (a heap snapshot showed each closed `inbox` socket kept, 20 KiB each).
 */
const UNGUARDED: StreamGuard = { onEnd: () => {}, dispose: () => {} };

/**
 * Registers an SSE stream under its session, where the revocation listener and the expiry timer
 * of sockets reach it too (see container.ts): it ends within a second of a revocation heard from
 * any instance, and at its token's expiry, whether or not an event comes.
 */
function guardStream(guards: StreamGuards, sessionId: string, expiresAt: Date, release: () => void): StreamGuard {
  let endedWith: AppError | undefined;
  let listener: ((error: AppError) => void) | undefined;
  const end = (error: AppError) => {
    if (endedWith) return;
    endedWith = error;
    listener?.(error);
  };
  const stream = { close: (_code: number, reason: string) => end(reason === 'token expired' ? tokenExpired() : tokenRevoked()) };
  guards.streams.add(stream, sessionId, expiresAt);
  // Revoked between the context's token check and this registration.
  if (guards.revokedSessions.has(sessionId)) end(tokenRevoked());
  return {
    onEnd: (onEnded) => {
      listener = onEnded;
      if (endedWith) onEnded(endedWith);
    },
    dispose: () => {
      guards.streams.remove(stream);
      release();
    },
  };
}

/**
 * Sockets end their own streams (the socket closes on revocation and expiry, and its expiry can
 * move with `renewConnection`); a stream over HTTP (SSE) has nothing else to end it.
 */
async function guardFor(guards: StreamGuards, context: Context & { websocket?: unknown; request?: Request }, sessionId: string | null): Promise<StreamGuard> {
  if (context.websocket || !sessionId) return UNGUARDED;
  const authorization = context.request?.headers.get('authorization');
  if (!authorization) return UNGUARDED;
  const { sessions, connectionCaps } = guards;
  const expiresAt = sessions.accessTokenExpiry(sessions.bearerToken(authorization));
  // SSE streams count with the user's and the address's sockets.
  const release = connectionCaps.acquire((await context.auth.viewer())?.id ?? sessionId, context.ip);
  if (!release) throw new AppError('RATE_LIMITED', 'Too many open subscriptions; close one first.', { retryAfter: 1 });
  return guardStream(guards, sessionId, expiresAt, release);
}

const END = Symbol('end');

/**
 * Maps source events to results like graphql-js does, but `return()` reaches the source at
 * once (an async generator would wait for the next event first, keeping the pub/sub listener),
 * and the guard can end the stream between events with a final error.
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  toResult: (event: unknown) => Promise<ExecutionResult>,
  isRevoked: () => boolean,
  guard: StreamGuard,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  let endedWith: AppError | undefined;
  // Settles the race of the `next()` under way, if any, when the guard ends the stream.
  let interrupt: (() => void) | undefined;
  guard.onEnd((error) => {
    endedWith = error;
    interrupt?.();
  });
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    finished = true;
    guard.dispose();
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (finished) return { done: true, value: undefined };
      if (!endedWith) {
        // A promise of this call alone, so that nothing outlives the call but the source's own.
        const interrupted = new Promise<typeof END>((resolve) => (interrupt = () => resolve(END)));
        const event = await Promise.race([iterator.next(), interrupted]);
        interrupt = undefined;
        if (event !== END) {
          if (event.done) return finish();
          if (isRevoked()) {
            // A stream must not outlive its session, over SSE as over WebSocket.
            await finish();
            return { done: false, value: { errors: [tokenRevoked()] } };
          }
          return { done: false, value: await toResult(event.value) };
        }
      }
      await finish();
      return { done: false, value: { errors: [endedWith ?? tokenRevoked()] } };
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
 * and ends the stream when the subscriber's session is revoked or, over SSE, its access token
 * expires. Unexpected resolver errors of events are logged here: Yoga's execute hooks do not
 * see them.
 */
export const useSubscriptionEventContext = (fork: () => EntityManager, guards: StreamGuards): Plugin<Context> => ({
  onSubscribe: ({ setSubscribeFn }) => {
    setSubscribeFn(async (args: ExecutionArgs) => {
      const source = await createSourceEventStream(args);
      if (!isAsyncIterable(source)) return source;
      const base = args.contextValue as Context;
      // Every subscription field is behind the loggedIn scope, so a live source means the
      // viewer was resolved (the promise is settled); null only for a field that needs none.
      const sessionId = await base.auth.sessionId().catch(() => null);
      let guard: StreamGuard;
      try {
        guard = await guardFor(guards, base, sessionId);
      } catch (error) {
        await source[Symbol.asyncIterator]().return?.();
        if (isAppError(error)) return { errors: [error] };
        throw error;
      }
      return mapEvents(
        source,
        async (event) => {
          const result = await execute({ ...args, rootValue: event, contextValue: eventContext(base, fork) });
          for (const error of result.errors ?? []) {
            if (error.originalError && !isAppError(error.originalError)) {
              base.logger.error({ err: error.originalError, path: error.path }, 'unexpected error in subscription event');
            }
          }
          return result;
        },
        () => sessionId !== null && guards.revokedSessions.has(sessionId),
        guard,
      );
    });
  },
});
