import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Config } from './env.js';
import type { Logger } from './logger.js';

/** Where the server found its database: `embeddedDir` when main.ts started PGlite itself. */
export interface StartupFacts {
  address: AddressInfo;
  embeddedDir?: string;
}

/** host:port/path of a URL, without user, password or query (they may hold secrets). */
function location(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/** The address to type into a browser: a wildcard bind is reached through localhost. */
function browserHost(address: AddressInfo): string {
  const wildcard = ['0.0.0.0', '::', ''].includes(address.address);
  if (wildcard) return 'localhost';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/** What a developer needs at a glance once the server listens, as fields of one log line. */
export function startupSummary(config: Config, { address, embeddedDir }: StartupFacts) {
  const base = `http://${browserHost(address)}:${address.port}`;
  return {
    graphql: `${base}/graphql`,
    graphiql: config.GRAPHIQL ? `${base}/graphql` : 'off (GRAPHIQL=false)',
    websocket: `ws://${browserHost(address)}:${address.port}/graphql`,
    database: embeddedDir
      ? `embedded PostgreSQL (PGlite) in ${resolve(embeddedDir)}; set DATABASE_URL for production`
      : `PostgreSQL at ${location(config.DATABASE_URL ?? '')}`,
    mail: config.SMTP_URL ? `SMTP at ${location(config.SMTP_URL)}` : `.eml files in ${resolve(config.DATA_DIR, 'mail')} (SMTP_URL is not set)`,
    links: config.APP_URL,
    corsOrigins: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : config.NODE_ENV === 'production' ? 'none' : 'any (development)',
    redis: config.REDIS_URL ? location(config.REDIS_URL) : 'none (in-process pub/sub)',
    mode: config.NODE_ENV,
  };
}

/** Settings that are legal but probably a mistake. */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.NODE_ENV === 'production' && config.CORS_ORIGINS.length === 0) {
    warnings.push('CORS_ORIGINS is not set in production: no browser origin may call the API or open a WebSocket; list your front ends in CORS_ORIGINS');
  }
  return warnings;
}

export function logStartup(logger: Logger, config: Config, facts: StartupFacts): void {
  for (const warning of startupWarnings(config)) logger.warn(warning);
  const summary = startupSummary(config, facts);
  logger.info(summary, `Forum API ready: ${summary.graphql}${config.GRAPHIQL ? ' (GraphiQL in a browser)' : ''}`);
}

/**
 * One clear line for the ways listening commonly fails, instead of a stack; null for anything
 * else (which deserves its stack).
 */
export function listenFailure(error: unknown, config: Pick<Config, 'PORT' | 'HOST'>): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const where = `${config.HOST ?? 'all interfaces'}, port ${config.PORT}`;
  if (code === 'EADDRINUSE')
    return `Port ${config.PORT} is already in use (${where}): stop the other server or choose another port, e.g. PORT=${config.PORT + 1} npm start`;
  if (code === 'EACCES') return `Not allowed to listen on ${where}: ports below 1024 need privileges; choose another PORT`;
  if (code === 'EADDRNOTAVAIL') return `HOST ${config.HOST} is not an address of this machine; unset HOST to listen on all interfaces`;
  return null;
}
