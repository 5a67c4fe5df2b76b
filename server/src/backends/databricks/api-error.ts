// Turns every error a Databricks endpoint can answer with (databricks-api.md §5.1) into one
// `DatabricksApiError`, with the SDKs' status→code mapping (§5.2) and transient-error rules
// (§5.3). Pure: the caller scrubs secrets from the body before or after, never this module.
import { STATUS_CODES } from 'node:http';
import { isRetriableMessage, parseRetryAfter } from './retry.js';

/**
 * One failed call, whatever went wrong. `status` is the HTTP status, or 0 when no response
 * arrived (network error, timeout, refused before sending, no credentials, cancelled).
 */
export interface DatabricksApiError {
  status: number;
  /** Server code (`RESOURCE_DOES_NOT_EXIST`), else one derived from the status, else a client code (`CLIENT_ERROR_CODES`). */
  errorCode: string;
  message: string;
  /** Whether the SDKs would retry it (429, 503, transient messages, connection failures). */
  retryable: boolean;
  /** From a `Retry-After` header, in milliseconds. */
  retryAfterMs?: number;
  /** The `details` array of a 2.x error body (`@type` entries such as `ErrorInfo`). */
  details?: unknown[];
  /** Attempts made, when the client retried. */
  attempts?: number;
}

/** Codes for failures that never reached, or never came back from, the server. */
export const CLIENT_ERROR_CODES = {
  network: 'NETWORK_ERROR',
  timeout: 'REQUEST_TIMEOUT',
  cancelled: 'CANCELLED',
  credentials: 'CREDENTIALS_UNAVAILABLE',
  insecureTransport: 'INSECURE_TRANSPORT',
  invalidResponse: 'INVALID_RESPONSE',
  redirect: 'UNEXPECTED_REDIRECT',
} as const;

// §5.2, status → base class, named the way the SDKs name the class's code.
const STATUS_TO_CODE: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'RESOURCE_CONFLICT',
  429: 'TOO_MANY_REQUESTS',
  499: 'CANCELLED',
  500: 'INTERNAL_ERROR',
  501: 'NOT_IMPLEMENTED',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

// Codes the Go SDK files under TooManyRequests and therefore retries whatever the status.
const TOO_MANY_REQUESTS_CODES = new Set(['TOO_MANY_REQUESTS', 'RESOURCE_EXHAUSTED', 'REQUEST_LIMIT_EXCEEDED']);

// go-sdk `error_overrides.go`: 400 INVALID_PARAMETER_VALUE on these GETs means "not found".
const OVERRIDES: { path: RegExp; message: RegExp }[] = [
  { path: /^\/api\/2\.\d\/clusters\/get/, message: /Cluster .* does not exist/ },
  { path: /^\/api\/2\.\d\/jobs\/get/, message: /Job .* does not exist/ },
  { path: /^\/api\/2\.\d\/jobs\/runs\/get/, message: /(Run .* does not exist|Run: .* in job: .* doesn't exist)/ },
];

/** Longest server text kept in a message; bodies can be whole HTML pages. */
const MAX_MESSAGE_CHARS = 1000;

/** The HTTP reason phrase (`Bad Request`), or `HTTP <status>` for unknown statuses. */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

/**
 * The code for a status whose body carries none: the §5.2 class, else the reason phrase in
 * upper snake case (`BAD_GATEWAY`), as the Go SDK derives codes from HTML error pages.
 */
export function errorCodeForStatus(status: number): string {
  const mapped = STATUS_TO_CODE[status];
  if (mapped !== undefined) return mapped;
  const phrase = STATUS_CODES[status];
  return phrase === undefined ? 'UNKNOWN' : upperSnake(phrase);
}

/** What the client knows about a non-2xx response when it parses it. */
export interface ErrorResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text (possibly empty). */
  body: string;
  method?: string;
  /** Request path without the query, for the SDKs' per-endpoint overrides. */
  path?: string;
  /** Clock for HTTP-date `Retry-After` values. */
  now?: number;
}

/**
 * Parses a non-2xx response of any shape in §5.1: `{error_code, message}` (the code may be a
 * number), `{error, message}`, API 1.2 `{error: "..."}`, OAuth `{error, error_description}`,
 * SCIM `{detail, status, scimType}`, `CODE: message` text, HTML pages, empty and unparseable
 * bodies. Never throws.
 */
export function parseApiError(response: ErrorResponse): DatabricksApiError {
  const { status } = response;
  const parsed = parseBody(status, response.body);
  let errorCode = parsed.errorCode ?? errorCodeForStatus(status);
  const message = truncate(parsed.message === '' ? reasonPhrase(status) : parsed.message);

  if (status === 400 && errorCode === 'INVALID_PARAMETER_VALUE' && response.path !== undefined) {
    const path = response.path;
    if (OVERRIDES.some((o) => o.path.test(path) && o.message.test(message))) errorCode = 'RESOURCE_DOES_NOT_EXIST';
  }

  const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'), response.now ?? Date.now());
  const retryable =
    status === 429 || status === 503 || TOO_MANY_REQUESTS_CODES.has(errorCode) || isRetriableMessage(message);
  const error: DatabricksApiError = { status, errorCode, message, retryable };
  if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs;
  if (parsed.details !== undefined) error.details = parsed.details;
  return error;
}

/**
 * A 3xx: the only one the SDKs understand is the private-link login redirect (§5.1); any
 * other means the host is not a workspace API (a proxy, a login page).
 */
export function redirectError(status: number, location: string | undefined): DatabricksApiError {
  if (location?.includes('private-link-validation-error') === true) {
    return {
      status: 403,
      errorCode: 'PRIVATE_LINK_VALIDATION_ERROR',
      message:
        'The requested workspace has private link enabled and is not accessible from the current network. Connect from a network with private link access, or ask your administrator.',
      retryable: false,
    };
  }
  return {
    status,
    errorCode: CLIENT_ERROR_CODES.redirect,
    message: `unexpected redirect (${status} ${reasonPhrase(status)})${location === undefined ? '' : ` to ${stripQuery(location)}`}: is the host a Databricks workspace?`,
    retryable: false,
  };
}

/** An error the client made up itself (status 0 unless given). */
export function clientError(
  errorCode: string,
  message: string,
  options: { retryable?: boolean; status?: number } = {},
): DatabricksApiError {
  return { status: options.status ?? 0, errorCode, message, retryable: options.retryable ?? false };
}

interface ParsedBody {
  errorCode?: string;
  message: string;
  details?: unknown[];
}

function parseBody(status: number, body: string): ParsedBody {
  const text = body.trim();
  if (text === '') return { message: '' };
  if (text.startsWith('{')) {
    const json = tryJson(text);
    if (isRecord(json)) {
      const fromJson = parseJsonBody(json);
      if (fromJson !== undefined) return fromJson;
      if (Object.keys(json).length === 0) return { message: '' };
    }
  }
  if (/^<(!doctype|html|head|body|title|pre)\b/i.test(text) || /<(pre|title)>/i.test(text)) {
    return parseHtml(status, text);
  }
  const plain = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(text);
  if (plain !== null) return { errorCode: plain[1], message: (plain[2] ?? '').trim() };
  return { message: text };
}

function parseJsonBody(json: Record<string, unknown>): ParsedBody | undefined {
  const details = Array.isArray(json['details']) ? (json['details'] as unknown[]) : undefined;
  const withDetails = (parsed: ParsedBody): ParsedBody => (details === undefined ? parsed : { ...parsed, details });

  // SCIM: py-sdk `_parse_scim_error`.
  if ('scimType' in json || ('detail' in json && 'status' in json && !('message' in json))) {
    const detail = stringOf(json['detail']);
    const message = detail === 'null' ? 'SCIM API Internal Error' : `${stringOf(json['scimType'])} ${detail}`.trim();
    return { errorCode: `SCIM_${stringOf(json['status'])}`, message };
  }

  const rawCode = json['error_code'];
  const message = json['message'];
  const error = json['error'];
  // A numeric code (`{"error_code": 403, ...}`) only repeats the status; the status mapping
  // names it better than "403".
  let errorCode = typeof rawCode === 'string' && rawCode !== '' ? rawCode : undefined;

  if (typeof message === 'string') {
    // `{error, message}`: `error` is a code only when it looks like one.
    if (errorCode === undefined && typeof error === 'string' && /^[A-Z][A-Z0-9_]+$/.test(error)) errorCode = error;
    return withDetails(withEmbeddedCode(errorCode, message));
  }
  if (typeof error === 'string') {
    // OAuth token endpoints: py-sdk formats `<error>: <error_description>`.
    const description = json['error_description'];
    if (typeof description === 'string' && description !== '') return { message: `${error}: ${description}` };
    // API 1.2: `{"error": "<message>"}`, copied into the message.
    return withDetails(withEmbeddedCode(errorCode, error));
  }
  if (isRecord(error) && typeof error['message'] === 'string') {
    const code = typeof error['code'] === 'string' ? error['code'] : errorCode;
    return withDetails(withEmbeddedCode(code, error['message']));
  }
  if (errorCode !== undefined || typeof rawCode === 'number') return withDetails({ ...(errorCode === undefined ? {} : { errorCode }), message: '' });
  return undefined;
}

// Some services put the code in the message (`RESOURCE_ALREADY_EXISTS: /x already exists.`,
// §4.1) and leave `error_code` empty; keep the whole message, take the code from it.
function withEmbeddedCode(errorCode: string | undefined, message: string): ParsedBody {
  if (errorCode !== undefined) return { errorCode, message };
  const embedded = /^([A-Z][A-Z0-9_]{2,}): /.exec(message);
  return embedded === null ? { message } : { errorCode: embedded[1], message };
}

function parseHtml(status: number, html: string): ParsedBody {
  const pre = /<pre>([\s\S]*?)<\/pre>/i.exec(html);
  const title = /<title>([\s\S]*?)<\/title>/i.exec(html);
  const raw = pre?.[1] ?? title?.[1] ?? html.replace(/<[^>]*>/g, ' ');
  // Go trims spaces and dots around the `<pre>` text.
  const message = decodeEntities(raw).replace(/\s+/g, ' ').replace(/^[\s.]+|[\s.]+$/g, '');
  return { errorCode: upperSnake(reasonPhrase(status)), message };
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function upperSnake(phrase: string): string {
  return phrase
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS ? message : `${message.slice(0, MAX_MESSAGE_CHARS)}…`;
}

function stripQuery(url: string): string {
  const index = url.search(/[?#]/);
  return index === -1 ? url : url.slice(0, index);
}

function header(headers: ErrorResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}
