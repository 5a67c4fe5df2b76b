// Reply and error shapes shared by every emulated endpoint. Handlers return a `Reply` (or throw an
// `HttpError`) instead of writing to the socket, so the fault layer can still drop the response
// after the action has happened.
import type { IncomingMessage } from 'node:http';

/** What a handler answers; `body` objects are sent as JSON, strings and buffers as they are. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A failure answer thrown from deep inside a handler. */
export class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

export function json(body: unknown, status = 200): Reply {
  return { status, body };
}

/** The 2.x error body `{error_code, message}`. */
export function apiError(status: number, errorCode: string, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError({ status, body: { error_code: errorCode, message, ...extra } });
}

/** The API 1.2 error body `{error}`. */
export function legacyError(status: number, message: string): HttpError {
  return new HttpError({ status, body: { error: message } });
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses a JSON request body; an empty body is `{}`, like the service's own gateway accepts. */
export function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Falls through to the error below.
  }
  throw apiError(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request - expected a map');
}

/** A required string parameter, or the service's "missing required field" error. */
export function requireString(params: Record<string, unknown>, name: string, legacy = false): string {
  const value = params[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  const message = `Missing required field: ${name}`;
  throw legacy ? legacyError(400, message) : apiError(400, 'INVALID_PARAMETER_VALUE', message);
}

/** `true`/`false` from JSON booleans or query strings. */
export function flag(value: unknown, fallback: boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return fallback;
}

/** The Jetty-style HTML page the gateway sends for an internal error. */
export function htmlErrorPage(status: number, reason: string, path: string): string {
  return (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n' +
    `<title>Error ${status} ${reason}</title>\n</head>\n<body><h2>HTTP ERROR ${status}</h2>\n` +
    `<p>Problem accessing ${path}. Reason:\n<pre>    ${reason}</pre></p>\n</body>\n</html>\n`
  );
}
