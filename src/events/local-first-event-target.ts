import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

type Listener = EventListenerOrEventListenerObject;

interface Envelope {
  origin: string;
  detail: unknown;
}

const parseEnvelope = (text: string): Envelope | null => {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && 'origin' in value && typeof value.origin === 'string'
      ? { origin: value.origin, detail: 'detail' in value ? value.detail : null }
      : null;
  } catch {
    return null;
  }
};

/**
 * Pub/sub over Redis that delivers on this instance first. A plain Redis event target only
 * hears its own publications back through Redis, so a Redis outage would also silence the
 * subscribers of the publishing instance; here local listeners get each event at once, Redis
 * carries it to the other instances, and every instance skips the copies of its own origin.
 *
 * It replaces @graphql-yoga/redis-event-target, whose publish/subscribe promises are left
 * unhandled: during an outage they reject and take the process down.
 */
export class LocalFirstEventTarget extends EventTarget {
  private readonly origin = randomUUID();
  /** Topics this instance listens to, with how many listeners each, to (un)subscribe once. */
  private readonly topics = new Map<string, number>();

  constructor(
    private readonly publishClient: Redis,
    private readonly subscribeClient: Redis,
    private readonly logger: Logger,
  ) {
    super();
    subscribeClient.on('message', (channel: string, message: string) => {
      if (!this.topics.has(channel)) return;
      const envelope = parseEnvelope(message);
      if (!envelope || envelope.origin === this.origin) return;
      super.dispatchEvent(new CustomEvent(channel, { detail: envelope.detail }));
    });
  }

  override addEventListener(type: string, listener: Listener | null, options?: AddEventListenerOptions | boolean): void {
    if (!listener) return;
    super.addEventListener(type, listener, options);
    const count = this.topics.get(type) ?? 0;
    this.topics.set(type, count + 1);
    if (count === 0) this.subscribeClient.subscribe(type).catch((error: unknown) => this.warn('subscribe', type, error));
  }

  override removeEventListener(type: string, listener: Listener | null, options?: EventListenerOptions | boolean): void {
    if (!listener) return;
    super.removeEventListener(type, listener, options);
    const count = this.topics.get(type);
    if (count === undefined) return;
    if (count > 1) return void this.topics.set(type, count - 1);
    this.topics.delete(type);
    this.subscribeClient.unsubscribe(type).catch((error: unknown) => this.warn('unsubscribe', type, error));
  }

  override dispatchEvent(event: CustomEvent): boolean {
    super.dispatchEvent(new CustomEvent(event.type, { detail: event.detail }));
    const message = JSON.stringify({ origin: this.origin, detail: event.detail ?? null });
    this.publishClient.publish(event.type, message).catch((error: unknown) => this.warn('publish', event.type, error));
    return true;
  }

  private warn(action: string, topic: string, error: unknown): void {
    this.logger.warn(
      { action, topic: topic.split(':').slice(0, 2).join(':'), err: error instanceof Error ? error.message : String(error) },
      'redis pub/sub unavailable; local delivery continues',
    );
  }
}
