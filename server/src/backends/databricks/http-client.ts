// The one HTTP client for every Databricks endpoint: credentials from a strategy, the SDKs'
// User-Agent, per-request timeouts, retries on 429/503/transient failures within a time
// budget (databricks-api.md §5.3), and every error body parsed into `DatabricksApiError`.
// Invariant: no credential ever appears in a result or a log line, and none is sent over
// plain http:// to a host other than this machine.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  CLIENT_ERROR_CODES,
  clientError,
  parseApiError,
  redirectError,
  type DatabricksApiError,
} from './api-error.js';
import type { CredentialProvider } from './credentials.js';
import { insecureTransportProblem } from './insecure-transport.js';
import { readText, undiciTransport, type HttpTransport, type WireResponse } from './http-transport.js';
import { encodeQuery, type QueryParams } from './query-string.js';
import {
  backoffMs,
  classifyNetworkError,
  DEFAULT_BACKOFF,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_BUDGET_MS,
  sleep as defaultSleep,
  type Backoff,
} from './retry.js';
import { scrubSecrets, secretsInHeaders } from './secret-scrubber.js';

/** A call's outcome: the decoded value, or the one error type. Never thrown. */
export type ApiResult<T> = { ok: true; value: T; status: number } | { ok: false; error: DatabricksApiError };

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface DatabricksHttpClientOptions {
  /** The normalized workspace URL (`https://adb-1.2.azuredatabricks.net`, no trailing slash). */
  host: string;
  credentials: CredentialProvider;
  /** How requests reach the wire (`http-transport.ts`); undici when absent. */
  transport?: HttpTransport;
  /** For the default undici transport: its global dispatcher when absent (it is never replaced). */
  dispatcher?: Dispatcher;
  /** Built with `userAgent()` from `user-agent.ts`. */
  userAgent: string;
  /**
   * The Databricks config file the configuration names (`DATABRICKS_CONFIG_FILE`, a setting, else
   * `~/.databrickscfg`), for failure messages that send the user to it.
   */
  configFile?: string;
  /** Longest wait for response headers, and for each chunk of the body (default 60 s). */
  requestTimeoutMs?: number;
  /** Total time spent retrying one call before giving up (default 5 min; 0 disables retries). */
  retryBudgetMs?: number;
  /** Delays between attempts; tests shorten them. */
  backoff?: Partial<Backoff>;
  logger?: (message: string) => void;
  /**
   * Told before each wait between two attempts of a call, so a person waiting sees why (an
   * unreachable host is retried for the whole budget, 5 minutes, as the SDKs do).
   */
  onRetry?: (notice: RetryNotice) => void;
  /** Clock in ms; `Date.now` by default. */
  now?: () => number;
  /** Abortable wait; the real timer by default. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1). */
  random?: () => number;
}

/** A call about to be tried again: what failed, how often, and for how long it may go on. */
export interface RetryNotice {
  host: string;
  method: HttpMethod;
  path: string;
  /** The failure, scrubbed of credentials (`connect ECONNREFUSED 127.0.0.1:443`). */
  reason: string;
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  elapsedMs: number;
  budgetMs: number;
}

export interface RequestOptions {
  query?: QueryParams;
  /** Sent as JSON (`Content-Type: application/json`). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides `requestTimeoutMs` for this call. */
  timeoutMs?: number;
  /**
   * Whether repeating the call is harmless even if the server already acted on it. Defaults to
   * true for GET, HEAD, PUT and DELETE. Only idempotent calls are retried after a connection
   * broke mid-request or timed out; 429, 503 and transient server messages are retried always.
   */
  idempotent?: boolean;
}

export interface UploadOptions extends Omit<RequestOptions, 'body'> {
  /** Default `application/octet-stream`. */
  contentType?: string;
}

/** Inclusive byte range, as in the HTTP `Range` header; `end` open when absent. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface StreamOptions extends Omit<RequestOptions, 'body'> {
  range?: ByteRange;
}

export interface StreamResponse {
  /** 200, or 206 for a range. */
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The caller must consume or destroy it, or the connection is not reused. */
  body: Readable;
}

type Body = string | Uint8Array | Readable;

interface Outgoing {
  method: HttpMethod;
  path: string;
  query: QueryParams | undefined;
  headers: Record<string, string>;
  body: Body | undefined;
  /** Whether the body can be sent again (a stream cannot). */
  replayable: boolean;
  idempotent: boolean;
  signal: AbortSignal | undefined;
  timeoutMs: number;
}

interface Attempt<R> {
  result: ApiResult<R>;
  retry: boolean;
}

type OnSuccess<R> = (response: WireResponse) => Promise<ApiResult<R>>;

/** Error bodies are read up to this size; the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/**
 * Talks to one workspace. Holds no connection of its own (the dispatcher does), so it needs
 * no disposal; the class owns the configuration and the secret-scrubbing invariant.
 */
export class DatabricksHttpClient {
  readonly #base: string;
  readonly #options: DatabricksHttpClientOptions;
  readonly #backoff: Backoff;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #transport: HttpTransport;
  /** The credential forms last sent, for scrubbing credential errors that quote them. */
  #lastSecrets: string[] = [];
  /** The credential headers `#lastSecrets` came from. */
  #lastCredentials: string | undefined;
  /** The origin found safe for credentials (every URL here has #base's). */
  #safeOrigin: string | undefined;

  constructor(options: DatabricksHttpClientOptions) {
    this.#base = options.host.replace(/\/+$/, '');
    this.#options = options;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#transport = options.transport ?? undiciTransport(options.dispatcher);
  }

  /** The credential strategy's name, for `auth/<name>` and diagnostics. */
  get authType(): string {
    return this.#options.credentials.name;
  }

  /** The config file failure messages name (see `DatabricksHttpClientOptions.configFile`). */
  get configFile(): string {
    return this.#options.configFile ?? '~/.databrickscfg';
  }

  /**
   * A JSON call: `path` (starting with `/api/...`) plus `query`, JSON `body` for POST/PUT/
   * PATCH. An empty response body decodes as `{}`, as in the SDKs.
   */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    return this.#send<T>(this.#outgoing(method, path, options, headers, body, true), (response) =>
      this.#decodeJson<T>(method, path, response),
    );
  }

  /**
   * Sends raw bytes (Files API `PUT /api/2.0/fs/files/...`, `workspace-files/import-file`).
   * A `Uint8Array` is retried like any call; a stream cannot be replayed, so it never is.
   */
  async upload<T = Record<string, never>>(
    method: 'PUT' | 'POST',
    path: string,
    content: Uint8Array | Readable,
    options: UploadOptions = {},
  ): Promise<ApiResult<T>> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...options.headers,
      'Content-Type': options.contentType ?? 'application/octet-stream',
    };
    const replayable = content instanceof Uint8Array;
    return this.#send<T>(this.#outgoing(method, path, options, headers, content, replayable), (response) =>
      this.#decodeJson<T>(method, path, response),
    );
  }

  /**
   * A download whose body is handed over unread (Files API, `workspace/export` with
   * `direct_download=true`), with an optional `Range`. Retries happen only before the body
   * is handed over; errors are read and parsed like any other.
   */
  async requestStream(method: 'GET' | 'HEAD', path: string, options: StreamOptions = {}): Promise<ApiResult<StreamResponse>> {
    const headers: Record<string, string> = { Accept: '*/*', ...options.headers };
    if (options.range !== undefined) {
      headers['Range'] = `bytes=${options.range.start}-${options.range.end ?? ''}`;
    }
    return this.#send<StreamResponse>(this.#outgoing(method, path, options, headers, undefined, true), async (response) => ({
      ok: true,
      status: response.status,
      value: { status: response.status, headers: flattenHeaders(response.headers), body: response.body },
    }));
  }

  #outgoing(
    method: HttpMethod,
    path: string,
    options: RequestOptions,
    headers: Record<string, string>,
    body: Body | undefined,
    replayable: boolean,
  ): Outgoing {
    return {
      method,
      path,
      query: options.query,
      headers,
      body,
      replayable,
      idempotent: options.idempotent ?? IDEMPOTENT_METHODS.has(method),
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    };
  }

  async #send<R>(out: Outgoing, onSuccess: OnSuccess<R>): Promise<ApiResult<R>> {
    let url: URL;
    try {
      url = new URL(`${this.#base}${out.path.startsWith('/') ? '' : '/'}${out.path}${encodeQuery(out.query)}`);
    } catch {
      return { ok: false, error: clientError(CLIENT_ERROR_CODES.invalidResponse, `invalid URL for ${out.method} ${out.path}`) };
    }
    // Refused before credentials are even fetched: an OAuth or CLI token is a secret too.
    if (url.origin !== this.#safeOrigin) {
      const insecure = insecureTransportProblem(url);
      if (insecure !== undefined) {
        return { ok: false, error: clientError(CLIENT_ERROR_CODES.insecureTransport, insecure) };
      }
      this.#safeOrigin = url.origin;
    }

    const budget = this.#options.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
    const started = this.#now();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(url, out, onSuccess, attempt);
      // A zero budget means "never retry", with the error exactly as the server sent it.
      if (outcome.result.ok || !outcome.retry || budget <= 0) return withAttempts(outcome.result, attempt);
      const error = outcome.result.error;

      const jitter = () => (this.#options.random ?? Math.random)();
      const wait =
        error.retryAfterMs !== undefined
          ? error.retryAfterMs + jitter() * this.#backoff.jitterMaxMs
          : backoffMs(attempt, this.#backoff, jitter);
      const elapsed = this.#now() - started;
      if (elapsed + wait > budget) {
        const asked = error.retryAfterMs === undefined ? '' : `; the server asked to wait ${seconds(error.retryAfterMs)}`;
        const message = `${out.method} ${out.path}: gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${seconds(elapsed)} (retry budget ${seconds(budget)}${asked}): ${error.message}`;
        this.#log(message);
        return { ok: false, error: { ...error, message, attempts: attempt } };
      }
      this.#log(`${out.method} ${out.path}: ${error.errorCode}, retrying in ${Math.round(wait)} ms (attempt ${attempt + 1})`);
      this.#options.onRetry?.({ host: this.#options.host, method: out.method, path: out.path, reason: error.message, attempt: attempt + 1, elapsedMs: elapsed, budgetMs: budget });
      try {
        await this.#sleep(wait, out.signal);
      } catch {
        return { ok: false, error: { ...cancelled(out), attempts: attempt } };
      }
    }
  }

  async #attempt<R>(url: URL, out: Outgoing, onSuccess: OnSuccess<R>, attempt: number): Promise<Attempt<R>> {
    if (isAborted(out.signal)) return { result: { ok: false, error: cancelled(out) }, retry: false };
    const credentials = await this.#options.credentials.headers(out.signal);
    if (!credentials.ok) {
      if (isAborted(out.signal)) return { result: { ok: false, error: cancelled(out) }, retry: false };
      const message = scrubSecrets(`cannot authenticate: ${credentials.error}`, this.#lastSecrets);
      this.#log(`${out.method} ${out.path}: ${message}`);
      const retry = credentials.retryable === true;
      return { result: { ok: false, error: clientError(CLIENT_ERROR_CODES.credentials, message, { retryable: retry }) }, retry };
    }
    const sent = JSON.stringify(credentials.headers);
    if (sent !== this.#lastCredentials) {
      this.#lastSecrets = secretsInHeaders(credentials.headers);
      this.#lastCredentials = sent;
    }
    const secrets = this.#lastSecrets;
    const headers = { ...out.headers, 'User-Agent': this.#options.userAgent, ...credentials.headers };

    const started = this.#now();
    const finish = <T>(outcome: Attempt<T>): Attempt<T> => {
      const status = outcome.result.ok ? String(outcome.result.status) : describeFailure(outcome.result.error);
      this.#log(scrubSecrets(`${out.method} ${out.path} -> ${status} in ${this.#now() - started} ms (attempt ${attempt})`, secrets));
      return outcome;
    };

    try {
      const response = await this.#transport(url, { method: out.method, headers, body: out.body, signal: out.signal, timeoutMs: out.timeoutMs });
      const status = response.status;
      if (status >= 200 && status < 300) return finish({ result: await onSuccess(response), retry: false });

      const text = await readCapped(response.body, MAX_ERROR_BODY_BYTES);
      if (status >= 300 && status < 400) {
        const location = response.headers['location'];
        const error = redirectError(status, Array.isArray(location) ? location[0] : location);
        return finish({ result: { ok: false, error: scrubError(error, secrets) }, retry: false });
      }
      const error = scrubError(
        parseApiError({ status, headers: response.headers, body: text, method: out.method, path: out.path, now: this.#now() }),
        secrets,
      );
      return finish({ result: { ok: false, error }, retry: error.retryable && out.replayable });
    } catch (thrown) {
      if (isAborted(out.signal)) return finish({ result: { ok: false, error: cancelled(out) }, retry: false });
      const failure = classifyNetworkError(thrown);
      const retryable =
        out.replayable && (failure.kind === 'before-send' || (failure.kind !== 'fatal' && out.idempotent));
      const error =
        failure.kind === 'timeout'
          ? clientError(
              CLIENT_ERROR_CODES.timeout,
              `${out.method} ${out.path}: ${failure.description} within ${out.timeoutMs} ms from ${url.host}`,
              { retryable },
            )
          : clientError(CLIENT_ERROR_CODES.network, `${out.method} ${out.path}: ${failure.description} (${url.host})`, {
              retryable,
            });
      return finish({ result: { ok: false, error: scrubError(error, secrets) }, retry: retryable });
    }
  }

  async #decodeJson<T>(method: HttpMethod, path: string, response: WireResponse): Promise<ApiResult<T>> {
    const status = response.status;
    const text = await readText(response.body);
    if (text.trim() === '') return { ok: true, value: {} as T, status };
    try {
      return { ok: true, value: JSON.parse(text) as T, status };
    } catch {
      const type = response.headers['content-type'];
      return {
        ok: false,
        error: clientError(
          CLIENT_ERROR_CODES.invalidResponse,
          `${method} ${path}: expected JSON, got ${typeof type === 'string' ? type : 'a body without Content-Type'} (${text.length} bytes)`,
          { status },
        ),
      };
    }
  }

  #log(message: string): void {
    this.#options.logger?.(`databricks: ${scrubSecrets(message, this.#lastSecrets)}`);
  }
}

// A function, not an inline check, because the signal changes under TypeScript's narrowing.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function withAttempts<R>(result: ApiResult<R>, attempts: number): ApiResult<R> {
  if (result.ok || attempts === 1) return result;
  return { ok: false, error: { ...result.error, attempts } };
}

function cancelled(out: Outgoing): DatabricksApiError {
  return clientError(CLIENT_ERROR_CODES.cancelled, `${out.method} ${out.path}: cancelled`);
}

function scrubError(error: DatabricksApiError, secrets: readonly string[]): DatabricksApiError {
  const scrubbed: DatabricksApiError = { ...error, message: scrubSecrets(error.message, secrets) };
  if (error.details !== undefined) scrubbed.details = JSON.parse(scrubSecrets(JSON.stringify(error.details), secrets)) as unknown[];
  return scrubbed;
}

function describeFailure(error: DatabricksApiError): string {
  return error.status === 0 ? error.errorCode : `${error.status} ${error.errorCode}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

async function readCapped(body: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buffer);
    size += buffer.length;
    if (size >= maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

function flattenHeaders(headers: WireResponse['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
