// How one HTTP exchange reaches the wire, under the retries, credentials and error parsing of
// `http-client.ts`: undici for the language server, a long-lived process where its import and
// its WebAssembly HTTP parser are paid once; node's own http/https for the CLI, a process of one
// run, where undici's import (50–70 ms), that parser's compile and V8 joining its optimising
// compile at exit (about 40 ms) cost more than the whole warm run.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

export interface WireRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | Readable | undefined;
  signal?: AbortSignal | undefined;
  /** Longest wait for the response headers, and for each chunk of the body after them. */
  timeoutMs: number;
}

export interface WireResponse {
  status: number;
  /** Lower-case names, as both transports give them. */
  headers: Record<string, string | string[] | undefined>;
  /** Must be read or destroyed, or the connection is not reused. */
  body: Readable;
}

export type HttpTransport = (url: URL, request: WireRequest) => Promise<WireResponse>;

/**
 * The proxy for https:// requests from `HTTPS_PROXY` (or `https_proxy`), as the Databricks CLI and
 * SDKs read it; `NO_PROXY` lists hosts reached directly. Plain http:// (only ever to this machine)
 * is never proxied: a proxy elsewhere would see the token in clear.
 */
export function httpsProxyOf(env: NodeJS.ProcessEnv): { proxy: string; noProxy: string } | undefined {
  const proxy = (env['HTTPS_PROXY'] ?? env['https_proxy'] ?? '').trim();
  if (proxy === '') return undefined;
  return { proxy, noProxy: env['NO_PROXY'] ?? env['no_proxy'] ?? '' };
}

/**
 * undici's `request`, imported on the first exchange (a session on the local backend never needs
 * it), through `dispatcher`, else through the https proxy `env` names, else undici's global one.
 */
export function undiciTransport(dispatcher?: Dispatcher, env: NodeJS.ProcessEnv = process.env): HttpTransport {
  let loaded: Promise<{ undici: typeof import('undici'); dispatcher: Dispatcher | undefined }> | undefined;
  const load = async (): Promise<{ undici: typeof import('undici'); dispatcher: Dispatcher | undefined }> => {
    const undici = await import('undici');
    const proxied = dispatcher === undefined ? httpsProxyOf(env) : undefined;
    return { undici, dispatcher: proxied ? new undici.EnvHttpProxyAgent({ httpProxy: '', httpsProxy: proxied.proxy, noProxy: proxied.noProxy }) : dispatcher };
  };
  return async (url, request) => {
    loaded ??= load();
    const { undici, dispatcher: through } = await loaded;
    const response = await undici.request(url, {
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body: request.body,
      signal: request.signal,
      dispatcher: through,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.timeoutMs,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  };
}

/** A stalled exchange, with a code `classifyNetworkError` knows. */
function timeoutError(code: 'ERR_HEADERS_TIMEOUT' | 'ERR_BODY_TIMEOUT', ms: number): Error {
  const what = code === 'ERR_HEADERS_TIMEOUT' ? 'no response headers' : 'the response body stalled';
  return Object.assign(new Error(`${what} within ${ms} ms`), { code });
}

/**
 * node's `http`/`https` with keep-alive agents of its own (their idle sockets do not hold the
 * process open). The idle timeout of the socket stands for both of undici's timeouts. Behind an
 * https proxy (which node 20's http cannot go through) it is undici's transport after all.
 */
export function nodeHttpTransport(env: NodeJS.ProcessEnv = process.env): HttpTransport {
  if (httpsProxyOf(env)) return undiciTransport(undefined, env);
  const agents = new Map<string, import('node:http').Agent>();
  return async (url, request) => {
    const secure = url.protocol === 'https:';
    const module = secure ? await import('node:https') : await import('node:http');
    let agent = agents.get(url.protocol);
    if (agent === undefined) {
      agent = new module.Agent({ keepAlive: true });
      agents.set(url.protocol, agent);
    }
    return new Promise<WireResponse>((resolve, reject) => {
      let answer: import('node:http').IncomingMessage | undefined;
      const outgoing = module.request(url, { method: request.method, headers: request.headers, agent, ...(request.signal ? { signal: request.signal } : {}) }, (response) => {
        answer = response;
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response });
      });
      // Once the headers are in, a stall fails the body its reader holds, not the request.
      outgoing.setTimeout(request.timeoutMs, () => {
        if (answer) answer.destroy(timeoutError('ERR_BODY_TIMEOUT', request.timeoutMs));
        else outgoing.destroy(timeoutError('ERR_HEADERS_TIMEOUT', request.timeoutMs));
      });
      outgoing.on('error', (error) => {
        if (!answer) reject(error);
      });
      const { body } = request;
      if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
        outgoing.end(body);
      } else {
        body.on('error', (error) => outgoing.destroy(error));
        body.pipe(outgoing);
      }
    });
  };
}

/** A body read whole as UTF-8 (the callers cap what they keep where it matters). */
export async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
