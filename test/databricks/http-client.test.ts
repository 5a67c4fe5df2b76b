// The Databricks HTTP client over real loopback HTTP: headers it sends, retries (429 with
// Retry-After, 503 bursts, connection resets), the retry budget, timeouts, every error-body
// shape, secrets kept out of errors and logs, and the refusal of plain http:// elsewhere;
// all of it over both transports (undici for the server, node's http for the CLI).
import { Readable } from 'node:stream';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../server/src/config/redact.js';
import { credentialsFor, type CredentialProvider } from '../../server/src/backends/databricks/credentials.js';
import { DatabricksHttpClient, type DatabricksHttpClientOptions } from '../../server/src/backends/databricks/http-client.js';
import { nodeHttpTransport, undiciTransport, type HttpTransport } from '../../server/src/backends/databricks/http-transport.js';
import { runCommand } from '../../server/src/backends/databricks/run-command.js';
import { userAgent } from '../../server/src/backends/databricks/user-agent.js';
import { json, startServer, text, type Handler, type LoopbackServer } from './loopback-server.js';

const TOKEN = 'dapi0123456789abcdef-SECRET';
const PASSWORD = 'hunter2-password-SECRET';
const UA = userAgent({ version: '0.1.0', authType: 'pat', env: {} });

let servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serve(handler: Handler): Promise<LoopbackServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

function pat(token = TOKEN): CredentialProvider {
  return credentialsFor({ type: 'pat', token: new Secret(token) }, { host: 'unused', runCommand });
}

let transport: HttpTransport = undiciTransport();

/** A client with short delays and its log lines (over `transport`, or undici with a MockAgent). */
function clientFor(host: string, options: Partial<DatabricksHttpClientOptions> = {}) {
  const logs: string[] = [];
  const client = new DatabricksHttpClient({
    host,
    credentials: pat(),
    userAgent: UA,
    retryBudgetMs: 5_000,
    backoff: { baseMs: 10, maxMs: 40, jitterMinMs: 0, jitterMaxMs: 0 },
    random: () => 0,
    logger: (line) => logs.push(line),
    ...(options.dispatcher ? {} : { transport }),
    ...options,
  });
  return { client, logs };
}

const TRANSPORTS: Array<[string, () => HttpTransport]> = [
  ['undici', () => undiciTransport()],
  ["node's http", () => nodeHttpTransport()],
];

describe.each(TRANSPORTS)('over %s', (_name, make) => {
  beforeEach(() => {
    transport = make();
  });

  describe('request', () => {
    it('sends JSON with the strategy header and the user agent, and decodes JSON', async () => {
      const server = await serve((req, res) => json(res, 200, { echo: JSON.parse(req.body || '{}') }));
      const { client } = clientFor(server.url);
      const result = await client.request<{ echo: unknown }>('POST', '/api/1.2/contexts/create', {
        body: { clusterId: 'abc', language: 'python' },
      });
      expect(result).toEqual({ ok: true, status: 200, value: { echo: { clusterId: 'abc', language: 'python' } } });
      const [sent] = server.requests;
      expect(sent?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
      expect(sent?.headers['content-type']).toBe('application/json');
      expect(sent?.headers['accept']).toBe('application/json');
      expect(sent?.headers['user-agent']).toMatch(/^choppa-lsp\/0\.1\.0 nodejs\/\d+\.\d+\.\d+ os\/[a-z0-9]+ auth\/pat$/);
    });

    it.each([
      ['pat', { type: 'pat', token: new Secret(TOKEN) }, `Bearer ${TOKEN}`],
      [
        'basic',
        { type: 'basic', username: 'me@example.com', password: new Secret(PASSWORD) },
        `Basic ${Buffer.from(`me@example.com:${PASSWORD}`).toString('base64')}`,
      ],
    ] as const)('sends the %s Authorization header', async (_name, auth, expected) => {
      const server = await serve((_req, res) => json(res, 200, {}));
      const { client } = clientFor(server.url, { credentials: credentialsFor(auth, { host: server.url, runCommand }) });
      expect((await client.request('GET', '/api/2.0/preview/scim/v2/Me')).ok).toBe(true);
      expect(server.requests[0]?.headers['authorization']).toBe(expected);
    });

    it('encodes GET parameters like the Python SDK and treats an empty body as {}', async () => {
      const server = await serve((_req, res) => text(res, 200, ''));
      const { client } = clientFor(server.url);
      const result = await client.request('GET', '/api/2.1/clusters/list', {
        query: { filter_by: { cluster_sources: ['API', 'UI'], is_pinned: true }, page_size: 10, page_token: undefined },
      });
      expect(result).toEqual({ ok: true, status: 200, value: {} });
      expect(server.requests[0]?.url).toBe(
        '/api/2.1/clusters/list?filter_by.cluster_sources=API&filter_by.cluster_sources=UI&filter_by.is_pinned=true&page_size=10',
      );
    });

    it('reports a 2xx body that is not JSON', async () => {
      const server = await serve((_req, res) => text(res, 200, '<html>login</html>', { 'Content-Type': 'text/html' }));
      const { client } = clientFor(server.url);
      const result = await client.request('GET', '/api/2.0/workspace/list');
      expect(result).toMatchObject({ ok: false, error: { status: 200, errorCode: 'INVALID_RESPONSE', retryable: false } });
      expect(!result.ok && result.error.message).toContain('expected JSON, got text/html');
    });
  });

  describe('retries', () => {
    it('honours Retry-After on 429 and retries once', async () => {
      const server = await serve((_req, res, index) =>
        index === 0
          ? json(res, 429, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, { 'Retry-After': '1' })
          : json(res, 200, { ok: 1 }),
      );
      const { client, logs } = clientFor(server.url);
      const result = await client.request('GET', '/api/2.0/clusters/get', { query: { cluster_id: 'x' } });
      expect(result).toEqual({ ok: true, status: 200, value: { ok: 1 } });
      expect(server.requests).toHaveLength(2);
      const gap = server.requests[1]!.at - server.requests[0]!.at;
      expect(gap).toBeGreaterThanOrEqual(990);
      expect(logs.some((line) => line.includes('REQUEST_LIMIT_EXCEEDED, retrying in 1000 ms (attempt 2)'))).toBe(true);
    });

    it('waits exactly what Retry-After says, in seconds or as an HTTP date, and counts attempts', async () => {
      const start = Date.parse('2026-01-01T00:00:00Z');
      const answers: Record<string, string>[] = [
        { 'Retry-After': '3' },
        { 'Retry-After': new Date(start + 7_000).toUTCString() },
        {}, // no header: backoff for attempt 3
      ];
      const server = await serve((_req, res, index) => {
        const headers = answers[index];
        if (headers === undefined) return json(res, 200, {});
        return json(res, 429, { error_code: 'RESOURCE_EXHAUSTED', message: 'quota' }, headers);
      });
      const waits: number[] = [];
      const { client } = clientFor(server.url, {
        now: () => start,
        sleep: async (ms) => void waits.push(ms),
        backoff: { baseMs: 100, maxMs: 1000, jitterMinMs: 0, jitterMaxMs: 0 },
        retryBudgetMs: 60_000,
      });
      const result = await client.request('POST', '/api/2.2/jobs/runs/submit', { body: { run_name: 'x' } });
      expect(result.ok).toBe(true);
      expect(server.requests).toHaveLength(4);
      expect(waits).toEqual([3000, 7000, 300]);
    });

    it('rides out a burst of 503s with growing delays', async () => {
      const server = await serve((_req, res, index) =>
        index < 4 ? text(res, 503, '') : json(res, 200, { done: true }),
      );
      const waits: number[] = [];
      const { client } = clientFor(server.url, { sleep: async (ms) => void waits.push(ms) });
      const result = await client.request('GET', '/api/1.2/commands/status');
      expect(result).toEqual({ ok: true, status: 200, value: { done: true } });
      expect(server.requests).toHaveLength(5);
      expect(waits).toEqual([10, 20, 30, 40]);
    });

    it.each([
      ['a transient message on a 500', 500, { error_code: 'INTERNAL_ERROR', message: 'ClusterNotReadyException: starting' }],
      ['an API 1.2 transient message', 400, { error: 'com.databricks.backend.manager.util.UnknownWorkerEnvironmentException: x' }],
      ['REQUEST_LIMIT_EXCEEDED on a 400', 400, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'rate' }],
    ])('retries %s', async (_name, status, body) => {
      const server = await serve((_req, res, index) => (index === 0 ? json(res, status, body) : json(res, 200, {})));
      const { client } = clientFor(server.url);
      expect((await client.request('POST', '/api/1.2/commands/execute', { body: {} })).ok).toBe(true);
      expect(server.requests).toHaveLength(2);
    });

    it.each([
      [400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad' }],
      [500, { error_code: 'INTERNAL_ERROR', message: 'boom' }],
      [502, {}],
      [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'gone' }],
    ])('does not retry a plain %i', async (status, body) => {
      const server = await serve((_req, res) => json(res, status, body));
      const { client } = clientFor(server.url);
      const result = await client.request('GET', '/api/2.0/workspace/get-status');
      expect(result).toMatchObject({ ok: false, error: { status, retryable: false } });
      expect(server.requests).toHaveLength(1);
    });

    it('retries a GET after the connection is reset', async () => {
      const server = await serve((_req, res, index, raw) => {
        if (index === 0) raw.socket.destroy();
        else json(res, 200, { again: true });
      });
      const { client, logs } = clientFor(server.url);
      const result = await client.request('GET', '/api/2.0/workspace/list', { query: { path: '/Users' } });
      expect(result).toEqual({ ok: true, status: 200, value: { again: true } });
      expect(server.requests).toHaveLength(2);
      expect(logs.some((line) => line.includes('NETWORK_ERROR, retrying'))).toBe(true);
    });

    it('does not repeat a POST whose connection broke, unless it is declared idempotent', async () => {
      const server = await serve((_req, res, index, raw) => {
        if (index === 0) raw.socket.destroy();
        else json(res, 200, {});
      });
      const { client } = clientFor(server.url);
      const result = await client.request('POST', '/api/1.2/commands/execute', { body: { command: 'x' } });
      expect(result).toMatchObject({ ok: false, error: { status: 0, errorCode: 'NETWORK_ERROR', retryable: false } });
      expect(!result.ok && result.error.message).toMatch(/^POST \/api\/1\.2\/commands\/execute: connection reset by peer/);
      expect(server.requests).toHaveLength(1);

      const again = await client.request('POST', '/api/2.2/jobs/runs/submit', { body: { idempotency_token: 't' }, idempotent: true });
      expect(again.ok).toBe(true);
    });

    it('gives up with a clear error when the budget runs out', async () => {
      const server = await serve((_req, res) => json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'Authentication is temporarily unavailable. Please try again later.' }));
      const { client, logs } = clientFor(server.url, { retryBudgetMs: 300, backoff: { baseMs: 40, maxMs: 40, jitterMinMs: 0, jitterMaxMs: 0 } });
      const result = await client.request('GET', '/api/2.1/clusters/get');
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toMatchObject({ status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE', retryable: true });
      expect(result.error.attempts).toBe(server.requests.length);
      expect(result.error.attempts).toBeGreaterThanOrEqual(2);
      expect(result.error.message).toMatch(
        /^GET \/api\/2\.1\/clusters\/get: gave up after \d+ attempts in [\d.]+ s \(retry budget 0\.3 s\): Authentication is temporarily unavailable/,
      );
      expect(logs.at(-1)).toContain('gave up after');
    });

    it('gives up at once when Retry-After is beyond the budget', async () => {
      const server = await serve((_req, res) => json(res, 429, { message: 'later' }, { 'Retry-After': '3600' }));
      const { client } = clientFor(server.url, { retryBudgetMs: 1000 });
      const result = await client.request('GET', '/api/2.0/x');
      expect(server.requests).toHaveLength(1);
      expect(result).toMatchObject({ ok: false, error: { errorCode: 'TOO_MANY_REQUESTS', retryAfterMs: 3_600_000, attempts: 1 } });
      expect(!result.ok && result.error.message).toContain('the server asked to wait 3600 s');
    });

    it('retries a refused connection until the budget runs out', async () => {
      const server = await serve(() => undefined);
      const url = server.url;
      await server.close();
      servers = [];
      const { client } = clientFor(url, { retryBudgetMs: 100 });
      const result = await client.request('POST', '/api/1.2/commands/execute', { body: {} });
      expect(result).toMatchObject({ ok: false, error: { status: 0, errorCode: 'NETWORK_ERROR', retryable: true } });
      expect(!result.ok && result.error.message).toMatch(/gave up after \d+ attempts .*connection refused/);
    });

    it('never retries a streamed upload body', async () => {
      const server = await serve((_req, res) => text(res, 503, ''));
      const { client } = clientFor(server.url);
      const result = await client.upload('PUT', '/api/2.0/fs/files/Volumes/a/b/c/f.bin', Readable.from([Buffer.from('abc')]));
      expect(result).toMatchObject({ ok: false, error: { status: 503 } });
      expect(server.requests).toHaveLength(1);
    });

    it('stops waiting when the caller cancels', async () => {
      const server = await serve((_req, res) => text(res, 503, ''));
      const controller = new AbortController();
      const { client } = clientFor(server.url, { backoff: { baseMs: 10_000, maxMs: 10_000, jitterMinMs: 0, jitterMaxMs: 0 }, retryBudgetMs: 60_000 });
      const pending = client.request('GET', '/api/2.0/x', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const result = await pending;
      expect(result).toMatchObject({ ok: false, error: { errorCode: 'CANCELLED', retryable: false } });
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('timeouts', () => {
    it('times out waiting for headers, retries a GET, and then gives up', async () => {
      // undici checks its timers at a coarse tick (up to about a second), so the server answers
      // only after every attempt has given up.
      const server = await serve((_req, res) => void setTimeout(() => json(res, 200, {}), 4_000));
      const { client } = clientFor(server.url, { requestTimeoutMs: 100, retryBudgetMs: 1_500 });
      const started = Date.now();
      const result = await client.request('GET', '/api/2.0/slow');
      expect(result).toMatchObject({ ok: false, error: { status: 0, errorCode: 'REQUEST_TIMEOUT', retryable: true } });
      expect(!result.ok && result.error.message).toMatch(/no response headers within 100 ms/);
      expect(server.requests.length).toBeGreaterThanOrEqual(2);
      expect(Date.now() - started).toBeLessThan(3_900);
    });

    it('times out a stalled body; a per-call timeout overrides the default', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"partial":');
      });
      const { client } = clientFor(server.url, { requestTimeoutMs: 60_000, retryBudgetMs: 0 });
      const result = await client.request('POST', '/api/2.0/stall', { body: {}, timeoutMs: 100 });
      expect(result).toMatchObject({ ok: false, error: { errorCode: 'REQUEST_TIMEOUT', retryable: false } });
      expect(!result.ok && result.error.message).toContain('response body stalled within 100 ms');
    });
  });

  describe('error bodies', () => {
    const html403 =
      '<html><head><meta http-equiv="Content-Type" content="text/html"/><title>Error 403 Invalid access token.</title></head><body><h2>HTTP ERROR 403</h2><p>Problem accessing /api/2.0/clusters/list. Reason:<pre>    Invalid access token.</pre></p></body></html>';
    it.each([
      ['standard 2.x', 404, '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Path (/x) doesn\'t exist."}', {}, 'RESOURCE_DOES_NOT_EXIST', "Path (/x) doesn't exist."],
      ['numeric code', 403, '{"error_code":403,"message":"Invalid access token."}', {}, 'PERMISSION_DENIED', 'Invalid access token.'],
      ['numeric 401', 401, '{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API. [ReqId: 1]"}', {}, 'UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API. [ReqId: 1]'],
      ['{error, message}', 400, '{"error":"INVALID_STATE","message":"Cluster is not running"}', {}, 'INVALID_STATE', 'Cluster is not running'],
      ['{error, message} with a prose error', 400, '{"error":"bad thing","message":"Details here"}', {}, 'BAD_REQUEST', 'Details here'],
      ['API 1.2 {error}', 400, '{"error":"ContextNotFound: no context 123"}', {}, 'BAD_REQUEST', 'ContextNotFound: no context 123'],
      ['API 1.2 {error} with a code prefix', 500, '{"error":"INTERNAL_ERROR: driver lost"}', {}, 'INTERNAL_ERROR', 'INTERNAL_ERROR: driver lost'],
      ['OAuth {error, error_description}', 401, '{"error":"invalid_client","error_description":"Client authentication failed"}', {}, 'UNAUTHENTICATED', 'invalid_client: Client authentication failed'],
      ['SCIM', 404, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User not found","status":"404","scimType":"invalidValue"}', {}, 'SCIM_404', 'invalidValue User not found'],
      ['SCIM null detail', 500, '{"detail":"null","status":"500"}', {}, 'SCIM_500', 'SCIM API Internal Error'],
      ['code in the message, empty error_code', 400, '{"error_code":"","message":"RESOURCE_ALREADY_EXISTS: /a/b already exists."}', {}, 'RESOURCE_ALREADY_EXISTS', 'RESOURCE_ALREADY_EXISTS: /a/b already exists.'],
      ['plain CODE: message', 400, 'INVALID_PARAMETER_VALUE: path must be absolute', { 'Content-Type': 'text/plain' }, 'INVALID_PARAMETER_VALUE', 'path must be absolute'],
      ['HTML with <pre>', 403, html403, { 'Content-Type': 'text/html' }, 'FORBIDDEN', 'Invalid access token'],
      ['HTML with only <title>', 502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', { 'Content-Type': 'text/html' }, 'BAD_GATEWAY', '502 Bad Gateway'],
      ['empty body', 401, '', {}, 'UNAUTHENTICATED', 'Unauthorized'],
      ['empty JSON object', 404, '{}', {}, 'NOT_FOUND', 'Not Found'],
      ['unparseable', 500, 'upstream connect error {', { 'Content-Type': 'text/plain' }, 'INTERNAL_ERROR', 'upstream connect error {'],
      ['unknown status, no body', 418, '', {}, 'I_M_A_TEAPOT', "I'm a Teapot"],
      ['409 conflict', 409, '{"error_code":"RESOURCE_ALREADY_EXISTS","message":"exists"}', {}, 'RESOURCE_ALREADY_EXISTS', 'exists'],
    ])('%s', async (_name, status, body, headers, errorCode, message) => {
      const server = await serve((_req, res) => text(res, status, body, headers));
      const { client } = clientFor(server.url, { retryBudgetMs: 0 });
      const result = await client.request('GET', '/api/2.0/anything');
      expect(result).toEqual({ ok: false, error: { status, errorCode, message, retryable: false } });
    });

    it('keeps details and reads Retry-After', async () => {
      const details = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'FILES_API_DIRECTORY_IS_NOT_EMPTY', domain: 'filesystem' }];
      const server = await serve((_req, res) => json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'later', details }, { 'Retry-After': '2' }));
      const { client } = clientFor(server.url, { retryBudgetMs: 0 });
      const result = await client.request('DELETE', '/api/2.0/fs/directories/Volumes/a');
      expect(result).toEqual({
        ok: false,
        error: { status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE', message: 'later', retryable: true, retryAfterMs: 2000, details },
      });
    });

    it.each([
      ['/api/2.1/clusters/get', 'Cluster abc does not exist', 'RESOURCE_DOES_NOT_EXIST'],
      ['/api/2.2/jobs/runs/get', 'Run 5 does not exist.', 'RESOURCE_DOES_NOT_EXIST'],
      ['/api/2.0/workspace/get-status', 'Cluster abc does not exist', 'INVALID_PARAMETER_VALUE'],
    ])('applies the SDK override on %s', async (path, message, errorCode) => {
      const server = await serve((_req, res) => json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message }));
      const { client } = clientFor(server.url, { retryBudgetMs: 0 });
      const result = await client.request('GET', path);
      expect(result).toMatchObject({ ok: false, error: { status: 400, errorCode } });
    });

    it('turns the private-link login redirect into PRIVATE_LINK_VALIDATION_ERROR', async () => {
      const server = await serve((_req, res) =>
        text(res, 302, '', { Location: 'https://adb-1.azuredatabricks.net/login.html?error=private-link-validation-error' }),
      );
      const { client } = clientFor(server.url);
      const result = await client.request('GET', '/api/2.0/clusters/list');
      expect(result).toMatchObject({ ok: false, error: { status: 403, errorCode: 'PRIVATE_LINK_VALIDATION_ERROR', retryable: false } });
    });
  });

  describe('secrets', () => {
    const secretForms = [TOKEN, PASSWORD, Buffer.from(`me:${PASSWORD}`).toString('base64')];
    const echoes: [string, Handler][] = [
      ['JSON', (req, res) => json(res, 401, { error_code: 401, message: `bad credential: ${req.headers['authorization']}` })],
      ['plain text', (req, res) => text(res, 401, `Rejected headers:\n${JSON.stringify(req.headers)}`)],
      ['HTML', (req, res) => text(res, 401, `<html><title>Error 401</title><pre>Authorization: ${req.headers['authorization']}</pre></html>`)],
      ['1.2 error', (req, res) => json(res, 400, { error: `token ${String(req.headers['authorization']).split(' ')[1]} invalid` })],
      ['details', (req, res) => json(res, 403, { error_code: 'PERMISSION_DENIED', message: 'no', details: [{ echo: req.headers['authorization'] }] })],
      ['503 then echo', (req, res, index) => (index === 0 ? text(res, 503, String(req.headers['authorization'])) : json(res, 401, { message: String(req.headers['authorization']) }))],
    ];

    it.each(echoes)('never shows a credential echoed back in %s', async (_name, handler) => {
      const server = await serve(handler);
      for (const auth of [
        { type: 'pat', token: new Secret(TOKEN) },
        { type: 'basic', username: 'me', password: new Secret(PASSWORD) },
      ] as const) {
        const { client, logs } = clientFor(server.url, { credentials: credentialsFor(auth, { host: server.url, runCommand }) });
        const result = await client.request('GET', '/api/2.0/preview/scim/v2/Me');
        expect(result.ok).toBe(false);
        const everything = `${JSON.stringify(result)}\n${logs.join('\n')}`;
        for (const secret of secretForms) expect(everything).not.toContain(secret);
        expect(everything).toContain('***');
      }
    });
  });

  describe('plain http', () => {
    it('refuses a non-loopback http:// host before fetching credentials or sending anything', async () => {
      const agent = new MockAgent();
      agent.disableNetConnect();
      agent.get('http://adb-1.cloud.example.com').intercept({ path: /.*/, method: 'GET' }).reply(200, {});
      let asked = 0;
      const credentials: CredentialProvider = {
        name: 'pat',
        headers: async () => {
          asked++;
          return { ok: true, headers: { Authorization: `Bearer ${TOKEN}` } };
        },
      };
      const { client, logs } = clientFor('http://adb-1.cloud.example.com', { dispatcher: agent, credentials });
      const result = await client.request('GET', '/api/2.0/clusters/list');
      expect(result).toEqual({
        ok: false,
        error: {
          status: 0,
          errorCode: 'INSECURE_TRANSPORT',
          message: 'refusing to send credentials over http:// to adb-1.cloud.example.com: use https://, or http:// only for a loopback host',
          retryable: false,
        },
      });
      expect(asked).toBe(0);
      expect(agent.pendingInterceptors()).toHaveLength(1);
      expect(logs.join('\n')).not.toContain(TOKEN);
      await agent.close();
    });

    it('allows https:// to any host (served by a MockAgent, nothing leaves the machine)', async () => {
      const agent = new MockAgent();
      agent.disableNetConnect();
      agent.get('https://adb-1.cloud.example.com').intercept({ path: '/api/2.0/clusters/list', method: 'GET' }).reply(200, { clusters: [] });
      const { client } = clientFor('https://adb-1.cloud.example.com', { dispatcher: agent });
      expect(await client.request('GET', '/api/2.0/clusters/list')).toEqual({ ok: true, status: 200, value: { clusters: [] } });
      await agent.close();
    });
  });

  describe('streams and uploads', () => {
    const content = Buffer.from('0123456789abcdefghij');

    it('downloads a range as a stream with the response headers', async () => {
      const server = await serve((req, res) => {
        const match = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers['range']));
        const start = Number(match?.[1]);
        const end = match?.[2] === '' ? content.length - 1 : Number(match?.[2]);
        res.writeHead(206, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(end - start + 1), 'Last-Modified': 'Wed, 01 Jan 2025 00:00:00 GMT' });
        res.end(content.subarray(start, end + 1));
      });
      const { client } = clientFor(server.url);
      const result = await client.requestStream('GET', '/api/2.0/fs/files/Volumes/c/s/v/f.bin', { range: { start: 5, end: 9 } });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.value.status).toBe(206);
      expect(result.value.headers['last-modified']).toBe('Wed, 01 Jan 2025 00:00:00 GMT');
      const chunks: Buffer[] = [];
      for await (const chunk of result.value.body) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('56789');
      expect(server.requests[0]?.headers['range']).toBe('bytes=5-9');
      expect(server.requests[0]?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    });

    it('parses a download error and retries a 503 before handing the body over', async () => {
      const server = await serve((_req, res, index) =>
        index === 0 ? text(res, 503, '') : json(res, 404, { error_code: 'NOT_FOUND', message: 'no such file' }),
      );
      const { client } = clientFor(server.url);
      const result = await client.requestStream('HEAD', '/api/2.0/fs/files/Volumes/x');
      expect(result).toMatchObject({ ok: false, error: { status: 404, errorCode: 'NOT_FOUND', attempts: 2 } });
    });

    it('uploads raw bytes, and retries them after a 429', async () => {
      const server = await serve((req, res, index) => (index === 0 ? text(res, 429, '') : text(res, 204, '')));
      const { client } = clientFor(server.url);
      const result = await client.upload('PUT', '/api/2.0/fs/files/Volumes/c/s/v/f.bin', content, { query: { overwrite: true } });
      expect(result).toEqual({ ok: true, status: 204, value: {} });
      expect(server.requests).toHaveLength(2);
      for (const sent of server.requests) {
        expect(sent.url).toBe('/api/2.0/fs/files/Volumes/c/s/v/f.bin?overwrite=true');
        expect(sent.headers['content-type']).toBe('application/octet-stream');
        expect(sent.body).toBe(content.toString());
      }
    });
  });
});
