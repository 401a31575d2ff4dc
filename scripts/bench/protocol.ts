/** Messages between the bench (parent) and a server process (child) over the IPC channel. */

export type ServerMode = 'app' | 'bare-yoga' | 'bare-ws' | 'argon2';

export interface ProcessStats {
  rss: number;
  /** Highest RSS sampled since the last reset-peak. */
  peakRss: number;
  heapUsed: number;
  /** CPU time of the process since it started, milliseconds. */
  cpuMs: number;
}

export interface HashRateResult {
  ops: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

export type ParentMessage =
  | { type: 'stats'; id: number }
  | { type: 'gc'; id: number }
  | { type: 'reset-peak'; id: number }
  | { type: 'heap-snapshot'; id: number; path: string }
  | { type: 'hash-rate'; id: number; seconds: number; concurrency: number; hash: string; password: string }
  | { type: 'stop'; id: number };

export type ChildMessage = { type: 'ready'; port: number } | { type: 'reply'; id: number; stats?: ProcessStats; hashRate?: HashRateResult; error?: string };

export const isParentMessage = (value: unknown): value is ParentMessage => typeof value === 'object' && value !== null && 'type' in value && 'id' in value;

export const isChildMessage = (value: unknown): value is ChildMessage => typeof value === 'object' && value !== null && 'type' in value;
