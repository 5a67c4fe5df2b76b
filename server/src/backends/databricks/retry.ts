// When and how long the Databricks client waits before trying again (databricks-api.md §5.3):
// the SDKs' transient messages and network failures, their backoff, and `Retry-After`.
// Pure functions plus an abortable sleep; the loop itself lives in the HTTP client.

/** Delays between attempts: `min(attempt × baseMs, maxMs)` plus uniform jitter, as the Go SDK. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  jitterMinMs: number;
  jitterMaxMs: number;
}

/** Go SDK: `attempt` seconds capped at 10 s, plus 50–750 ms jitter. */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 1000, maxMs: 10_000, jitterMinMs: 50, jitterMaxMs: 750 };

/** Both SDKs give up after five minutes of retrying (`retry_timeout_seconds`). */
export const DEFAULT_RETRY_BUDGET_MS = 300_000;

/** Both SDKs wait at most 60 s for a response (`http_timeout_seconds`). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

// The union of py-sdk's substrings and go-sdk's regexes for transient server messages.
const TRANSIENT_MESSAGES: RegExp[] = [
  /com\.databricks\.backend\.manager\.util\.UnknownWorkerEnvironmentException/,
  /does not have any associated worker environments/,
  /There is no worker environment with id/,
  /Unknown worker environment/,
  /ClusterNotReadyException/,
  /worker env .* not found/,
  /Unexpected error/,
  /Please try again later or try a faster operation\./,
  /RPC token bucket limit has been exceeded/,
  /Timed out after /,
  /deadline exceeded/,
  /REQUEST_LIMIT_EXCEEDED/,
];

/** Whether a server message is one the SDKs treat as transient. */
export function isRetriableMessage(message: string): boolean {
  return TRANSIENT_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * How a failed connection is classified. `before-send`: nothing reached the server, so any
 * method may be retried. `after-send`: the server may have acted on the request, so only
 * idempotent requests are retried. `fatal`: retrying cannot help.
 */
export type NetworkFailure = { kind: 'before-send' | 'after-send' | 'timeout' | 'fatal'; description: string };

// Node, undici and our node transport's error codes, with the wording of the SDKs' transient list where it has one.
const NETWORK_CODES: Record<string, NetworkFailure> = {
  ECONNREFUSED: { kind: 'before-send', description: 'connection refused' },
  UND_ERR_CONNECT_TIMEOUT: { kind: 'before-send', description: 'connect timeout' },
  EAI_AGAIN: { kind: 'before-send', description: 'temporary DNS failure' },
  ENETUNREACH: { kind: 'before-send', description: 'network unreachable' },
  EHOSTUNREACH: { kind: 'before-send', description: 'host unreachable' },
  ECONNRESET: { kind: 'after-send', description: 'connection reset by peer' },
  EPIPE: { kind: 'after-send', description: 'connection reset by peer (broken pipe)' },
  UND_ERR_SOCKET: { kind: 'after-send', description: 'connection reset by peer (socket closed)' },
  ECONNABORTED: { kind: 'after-send', description: 'connection aborted' },
  ETIMEDOUT: { kind: 'timeout', description: 'i/o timeout' },
  UND_ERR_HEADERS_TIMEOUT: { kind: 'timeout', description: 'no response headers' },
  UND_ERR_BODY_TIMEOUT: { kind: 'timeout', description: 'response body stalled' },
  // node's http transport (`http-transport.ts`) names its timeouts so.
  ERR_HEADERS_TIMEOUT: { kind: 'timeout', description: 'no response headers' },
  ERR_BODY_TIMEOUT: { kind: 'timeout', description: 'response body stalled' },
  ENOTFOUND: { kind: 'fatal', description: 'host not found' },
};

/** Classifies an error thrown by undici (or by reading a body) by its `code`, also on its `cause`. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 4; depth++) {
    const code = (current as { code?: unknown } | null)?.code;
    if (typeof code === 'string') {
      const known = NETWORK_CODES[code];
      if (known !== undefined) return known;
    }
    current = (current as { cause?: unknown } | null)?.cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  // undici reports a socket closed mid-response as "other side closed" without a known code.
  if (/other side closed|socket hang up|terminated/i.test(message)) {
    return { kind: 'after-send', description: 'connection reset by peer' };
  }
  return { kind: 'fatal', description: message };
}

/**
 * The delay before attempt `attempt + 1` (attempt counts from 1): linear in the attempt,
 * capped, plus jitter so that many clients do not retry in step.
 */
export function backoffMs(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const base = Math.min(Math.max(attempt, 1) * backoff.baseMs, backoff.maxMs);
  return base + backoff.jitterMinMs + random() * (backoff.jitterMaxMs - backoff.jitterMinMs);
}

/**
 * A `Retry-After` header in milliseconds: delay-seconds (fractions tolerated) or an HTTP date
 * relative to `now`. Undefined when absent or unreadable, so the caller falls back to backoff.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
