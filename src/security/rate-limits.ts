import { isAppError, rateLimited } from '../shared/errors.js';
import type { CounterStore, RateLimitRule } from './rate-limiter.js';

export interface RateLimitRules {
  loginFailuresPerEmail: RateLimitRule;
  loginPerIp: RateLimitRule;
  registerPerIp: RateLimitRule;
  refreshPerIp: RateLimitRule;
  typingPerUser: RateLimitRule;
  resetPasswordPerIp: RateLimitRule;
  emailRequestsPerIp: RateLimitRule;
}

/** A password check counted in advance; `succeeded` gives the attempt back. */
export interface PasswordAttempt {
  succeeded(): Promise<void>;
  /** Awaits `check` and keeps the attempt counted only if it failed with INVALID_CREDENTIALS. */
  settle<T>(check: Promise<T>): Promise<T>;
}

function passwordAttempt(giveBack: () => Promise<void>): PasswordAttempt {
  return {
    succeeded: giveBack,
    async settle(check) {
      try {
        const value = await check;
        await giveBack();
        return value;
      } catch (error) {
        if (!isAppError(error) || error.code !== 'INVALID_CREDENTIALS') await giveBack();
        throw error;
      }
    },
  };
}

const UNCOUNTED = passwordAttempt(async () => {});

/**
 * The API's abuse limits (API.md "Rate limits"), one method per rule. Beyond a limit the
 * operation fails with RATE_LIMITED and `extensions.retryAfter`.
 */
export class RateLimits {
  constructor(
    private readonly store: CounterStore,
    private readonly rules: RateLimitRules,
  ) {}

  /** Before a login: every attempt counts against the IP, and reserves one check of the account's password. */
  async beforeLogin(ip: string, email: string): Promise<PasswordAttempt> {
    await this.consume(`login:ip:${ip}`, this.rules.loginPerIp);
    return this.reservePasswordCheck(email);
  }

  /**
   * Reserves one check of an account's password (login, changePassword) before any hashing, in
   * one atomic increment: however many attempts arrive at once, at most the limit get through
   * per window. Only failures should count, so the owner is not locked out by their own
   * sign-ins: the caller gives the attempt back when the password was right.
   */
  async reservePasswordCheck(email: string): Promise<PasswordAttempt> {
    const rule = this.rules.loginFailuresPerEmail;
    if (rule.limit <= 0) return UNCOUNTED;
    const key = `login:fail:${email}`;
    const state = await this.store.increment(key, rule.windowSeconds);
    if (state.count > rule.limit) {
      // Refused unchecked, so it must not hold a place that a checked attempt could need later.
      await this.store.decrement(key);
      throw rateLimited(state.resetIn);
    }
    return passwordAttempt(() => this.store.decrement(key));
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

  beforeResetPassword(ip: string): Promise<void> {
    return this.consume(`reset:ip:${ip}`, this.rules.resetPasswordPerIp);
  }

  /**
   * resendActivation and requestPasswordReset per IP. Their answer must not change (it would
   * tell a caller something), so beyond the limit this says "do not mail" instead of failing.
   */
  async mayRequestEmail(ip: string): Promise<boolean> {
    const rule = this.rules.emailRequestsPerIp;
    if (rule.limit <= 0) return true;
    const state = await this.store.increment(`email-request:ip:${ip}`, rule.windowSeconds);
    return state.count <= rule.limit;
  }

  private async consume(key: string, rule: RateLimitRule): Promise<void> {
    if (rule.limit <= 0) return;
    const state = await this.store.increment(key, rule.windowSeconds);
    if (state.count > rule.limit) throw rateLimited(state.resetIn);
  }
}
