import { rateLimited } from '../graphql/errors.js';
import type { CounterStore, RateLimitRule } from './rate-limiter.js';

export interface RateLimitRules {
  loginFailuresPerEmail: RateLimitRule;
  loginPerIp: RateLimitRule;
  registerPerIp: RateLimitRule;
  refreshPerIp: RateLimitRule;
  typingPerUser: RateLimitRule;
}

/**
 * The API's abuse limits (API.md "Rate limits"), one method per rule. Beyond a limit the
 * operation fails with RATE_LIMITED and `extensions.retryAfter`.
 */
export class RateLimits {
  constructor(
    private readonly store: CounterStore,
    private readonly rules: RateLimitRules,
  ) {}

  /** Before a login: every attempt counts against the IP; an email locked by failures stays locked. */
  async beforeLogin(ip: string, email: string): Promise<void> {
    await this.consume(`login:ip:${ip}`, this.rules.loginPerIp);
    const { limit } = this.rules.loginFailuresPerEmail;
    if (limit <= 0) return;
    const failures = await this.store.peek(`login:fail:${email}`);
    if (failures && failures.count >= limit) throw rateLimited(failures.resetIn);
  }

  /** Only failures count per email, so its owner is not locked out by their own sign-ins. */
  async loginFailed(email: string): Promise<void> {
    const rule = this.rules.loginFailuresPerEmail;
    if (rule.limit > 0) await this.store.increment(`login:fail:${email}`, rule.windowSeconds);
  }

  beforeRegister(ip: string): Promise<void> {
    return this.consume(`register:ip:${ip}`, this.rules.registerPerIp);
  }

  beforeRefresh(ip: string): Promise<void> {
    return this.consume(`refresh:ip:${ip}`, this.rules.refreshPerIp);
  }

  beforeSetTyping(userId: string): Promise<void> {
    return this.consume(`typing:user:${userId}`, this.rules.typingPerUser);
  }

  private async consume(key: string, rule: RateLimitRule): Promise<void> {
    if (rule.limit <= 0) return;
    const state = await this.store.increment(key, rule.windowSeconds);
    if (state.count > rule.limit) throw rateLimited(state.resetIn);
  }
}
