import type { Server } from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Container } from '../container.js';
import type { OriginPolicy } from '../http/cors.js';
import type { Logger } from '../logger.js';
import { acceptConnection, releaseConnection, type ConnectionExtra, type WebSocketServices } from './connection-auth.js';
import { createUpgradeHandler } from './upgrade.js';
import { runThroughYoga, setUpOperation, type EnvelopedYoga } from './yoga-operation.js';

export { GRAPHQL_PATH } from './upgrade.js';
export { MAX_OPERATIONS_PER_CONNECTION, type EnvelopedYoga } from './yoga-operation.js';

/** Larger frames are refused by `ws` (close 1009); a 4000-character message fits many times. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
export const CONNECTION_INIT_WAIT_MS = 3_000;

export interface GraphQLWebSocketServerOptions {
  server: Server;
  yoga: EnvelopedYoga;
  container: Container;
  logger: Logger;
  /** The browser origins allowed to open a socket, as for CORS. */
  origins: OriginPolicy;
}

export interface GraphQLWebSocketServer {
  /** Sockets currently registered under a session (authenticated and open). */
  readonly openConnections: number;
  close(): Promise<void>;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's `/graphql`, wired from its parts:
 * the upgrade checks (upgrade.ts), authentication in `onConnect` before the connection is
 * acknowledged (connection-auth.ts), each operation through Yoga's envelop pipeline with its own
 * context and EntityManager fork (yoga-operation.ts), and 4403 closes when a token expires or a
 * session is revoked on any instance (the container's `sessionSockets`).
 */
export function attachGraphQLWebSocketServer({ server, yoga, container, logger, origins }: GraphQLWebSocketServerOptions): GraphQLWebSocketServer {
  const log = logger.child({ component: 'ws' });
  const { sessionSockets } = container;
  const services: WebSocketServices = {
    fork: container.fork,
    sessions: container.domain.sessions,
    revokedSessions: container.revokedSessions,
    sessionSockets,
    connectionCaps: container.connectionCaps,
    socketLifecycle: container.socketLifecycle,
    trustProxy: container.config.TRUST_PROXY,
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, perMessageDeflate: false });
  const onUpgrade = createUpgradeHandler(wss, origins, log);
  server.on('upgrade', onUpgrade);

  const disposable = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      isProd: container.config.NODE_ENV === 'production',
      connectionInitWaitTimeout: CONNECTION_INIT_WAIT_MS,
      execute: runThroughYoga('execute'),
      subscribe: runThroughYoga('subscribe'),
      onConnect: acceptConnection({ services, log }),
      onClose: releaseConnection({ services }),
      onSubscribe: setUpOperation({ yoga, services, log }),
    },
    wss,
  );

  return {
    get openConnections() {
      return sessionSockets.size;
    },
    async close() {
      server.off('upgrade', onUpgrade);
      const clients = [...wss.clients];
      const allClosed = Promise.all(
        clients.map((client) => new Promise<void>((resolve) => (client.readyState === client.CLOSED ? resolve() : client.once('close', () => resolve())))),
      );
      const disposed = disposable.dispose(); // closes every client with 1001 "Going away"
      // A client that does not answer the close handshake must not hold up the shutdown.
      const deadline = setTimeout(() => clients.forEach((client) => client.terminate()), 1_000);
      await Promise.all([allClosed, disposed]);
      clearTimeout(deadline);
    },
  };
}
