// Credential strategies end to end: OAuth M2M against a loopback token endpoint (discovery,
// caching, refresh near expiry), the databricks and az CLIs as real fake executables in a
// temp dir, and what each failing strategy says.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthMethod } from '../../server/src/config/databricks-config.js';
import { Secret } from '../../server/src/config/redact.js';
import {
  AZURE_DATABRICKS_APP_ID,
  credentialsFor,
  parseExpiry,
  type CredentialDeps,
} from '../../server/src/backends/databricks/credentials.js';
import { DatabricksHttpClient } from '../../server/src/backends/databricks/http-client.js';
import { runCommand, type RunCommand } from '../../server/src/backends/databricks/run-command.js';
import { json, startServer, type LoopbackServer } from './loopback-server.js';

const CLIENT_SECRET = 'dose-client-secret-SECRET';
const T0 = Date.parse('2026-01-01T00:00:00Z');

let servers: LoopbackServer[] = [];
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'choppa-creds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A clock the test moves. */
function clock(start = T0) {
  let time = start;
  return { now: () => time, set: (t: number) => void (time = t) };
}

function clientWith(host: string, auth: AuthMethod, deps: Partial<CredentialDeps> = {}) {
  const logs: string[] = [];
  const credentials = credentialsFor(auth, { host, runCommand, ...deps });
  const client = new DatabricksHttpClient({
    host,
    credentials,
    userAgent: 'choppa-lsp/0.1.0',
    retryBudgetMs: 5_000,
    backoff: { baseMs: 5, maxMs: 5, jitterMinMs: 0, jitterMaxMs: 0 },
    logger: (line) => logs.push(line),
  });
  return { client, credentials, logs };
}

/** A workspace that serves OAuth discovery, a token endpoint and an echo API. */
async function oauthWorkspace(options: { tokenEndpoint?: (base: string) => string; token?: (n: number) => [number, unknown] } = {}) {
  let base = '';
  let issued = 0;
  const server = await startServer((req, res) => {
    if (req.url === '/oidc/.well-known/oauth-authorization-server') {
      const token = options.tokenEndpoint?.(base) ?? `${base}/oidc/v1/token`;
      return json(res, 200, { authorization_endpoint: `${base}/oidc/v1/authorize`, token_endpoint: token });
    }
    if (req.url === '/oidc/v1/token') {
      issued++;
      const [status, body] = options.token?.(issued) ?? [
        200,
        { access_token: `m2m-token-${issued}`, token_type: 'Bearer', expires_in: '3600', scope: 'all-apis' },
      ];
      return json(res, status, body);
    }
    return json(res, 200, { authorization: req.headers['authorization'] });
  });
  base = server.url;
  servers.push(server);
  const count = (path: string) => server.requests.filter((r) => r.url === path).length;
  return { server, tokenCalls: () => count('/oidc/v1/token'), discoveryCalls: () => count('/oidc/.well-known/oauth-authorization-server') };
}

const m2m: AuthMethod = { type: 'oauth-m2m', clientId: 'sp-client', clientSecret: new Secret(CLIENT_SECRET), scopes: ['all-apis'] };

describe('oauth-m2m', () => {
  it('discovers the token endpoint, asks for client_credentials with Basic client auth, and sends the token', async () => {
    const ws = await oauthWorkspace();
    const { client } = clientWith(ws.server.url, m2m);
    const result = await client.request<{ authorization: string }>('GET', '/api/2.0/clusters/list');
    expect(result).toEqual({ ok: true, status: 200, value: { authorization: 'Bearer m2m-token-1' } });
    const tokenRequest = ws.server.requests.find((r) => r.url === '/oidc/v1/token');
    expect(tokenRequest?.method).toBe('POST');
    expect(tokenRequest?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(tokenRequest?.headers['authorization']).toBe(`Basic ${Buffer.from(`sp-client:${CLIENT_SECRET}`).toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(tokenRequest?.body))).toEqual({ grant_type: 'client_credentials', scope: 'all-apis' });
  });

  it('reuses the token until 40 s before expiry, then refreshes without rediscovering', async () => {
    const ws = await oauthWorkspace();
    const time = clock();
    const { client } = clientWith(ws.server.url, m2m, { now: time.now });
    const auth = async () => {
      const result = await client.request<{ authorization: string }>('GET', '/api/2.0/x');
      return result.ok ? result.value.authorization : result.error.message;
    };
    expect(await auth()).toBe('Bearer m2m-token-1');
    expect(await auth()).toBe('Bearer m2m-token-1');
    time.set(T0 + 3_559_000);
    expect(await auth()).toBe('Bearer m2m-token-1');
    time.set(T0 + 3_561_000);
    expect(await auth()).toBe('Bearer m2m-token-2');
    expect(await auth()).toBe('Bearer m2m-token-2');
    expect(ws.tokenCalls()).toBe(2);
    expect(ws.discoveryCalls()).toBe(1);
  });

  it('fetches one token for concurrent requests', async () => {
    const ws = await oauthWorkspace();
    const { client } = clientWith(ws.server.url, m2m);
    const results = await Promise.all([1, 2, 3, 4].map(() => client.request('GET', '/api/2.0/x')));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(ws.tokenCalls()).toBe(1);
  });

  it('retries a token endpoint that is briefly unavailable', async () => {
    const ws = await oauthWorkspace({
      token: (n) => (n === 1 ? [503, { error: 'temporarily_unavailable' }] : [200, { access_token: 'late', expires_in: 60 }]),
    });
    const { client } = clientWith(ws.server.url, m2m);
    expect(await client.request('GET', '/api/2.0/x')).toEqual({ ok: true, status: 200, value: { authorization: 'Bearer late' } });
    expect(ws.tokenCalls()).toBe(2);
  });

  it('says why the token was refused, without the client secret', async () => {
    const ws = await oauthWorkspace({
      token: () => [401, { error: 'invalid_client', error_description: `Client authentication failed for ${CLIENT_SECRET}` }],
    });
    const { client, logs } = clientWith(ws.server.url, m2m);
    const result = await client.request('GET', '/api/2.0/x');
    expect(result).toEqual({
      ok: false,
      error: {
        status: 0,
        errorCode: 'CREDENTIALS_UNAVAILABLE',
        message: 'cannot authenticate: oauth-m2m: cannot get access token: invalid_client: Client authentication failed for ***',
        retryable: false,
      },
    });
    expect(ws.tokenCalls()).toBe(1);
    expect(ws.server.requests.filter((r) => r.url === '/api/2.0/x')).toHaveLength(0);
    expect(`${JSON.stringify(result)}${logs.join('\n')}`).not.toContain(CLIENT_SECRET);
  });

  it('reports a host without OAuth (404 from discovery)', async () => {
    const server = await startServer((_req, res) => json(res, 404, { error_code: 'NOT_FOUND', message: 'no' }));
    servers.push(server);
    const { credentials } = clientWith(server.url, m2m);
    expect(await credentials.headers()).toEqual({ ok: false, error: 'oauth-m2m: databricks OAuth is not supported for this host', retryable: false });
  });

  it('never sends the client secret to a plain http:// token endpoint elsewhere', async () => {
    const ws = await oauthWorkspace({ tokenEndpoint: () => 'http://idp.example.com/oidc/v1/token' });
    const { credentials } = clientWith(ws.server.url, m2m);
    expect(await credentials.headers()).toEqual({
      ok: false,
      error: 'oauth-m2m: refusing to send credentials over http:// to idp.example.com: use https://, or http:// only for a loopback host',
      retryable: false,
    });
  });
});

/** Writes an executable shell script named `name` into a fresh directory and returns both. */
async function fakeCli(name: string, body: string) {
  const binDir = await mkdtemp(join(dir, 'bin-'));
  const path = join(binDir, name);
  const calls = join(binDir, 'calls.log');
  await writeFile(path, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\n${body}\n`, { mode: 0o755 });
  return {
    path,
    binDir,
    calls: async () => (await readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}

/** `runCommand` with PATH replaced, so lookups find (or miss) the fakes. */
function withPath(path: string): RunCommand {
  return (cmd, args, options) => runCommand(cmd, args, { ...options, env: { ...process.env, PATH: path } });
}

/** A shell builtin, so the fake needs nothing else on PATH. */
function printJson(value: unknown): string {
  return `printf '%s\\n' '${JSON.stringify(value).replace(/'/g, `'\\''`)}'`;
}

describe('databricks-cli', () => {
  it('runs `databricks auth token --host --profile` from databricks_cli_path and sends its token', async () => {
    const cli = await fakeCli('databricks', printJson({ access_token: 'cli-token', token_type: 'Bearer', refresh_token: 'r', expiry: '2030-01-01T00:00:00.123456789Z' }));
    const server = await startServer((req, res) => json(res, 200, { authorization: req.headers['authorization'] }));
    servers.push(server);
    const { client } = clientWith(server.url, { type: 'databricks-cli', cliPath: cli.path, profile: 'dev' });
    expect(await client.request('GET', '/api/2.0/x')).toEqual({ ok: true, status: 200, value: { authorization: 'Bearer cli-token' } });
    expect(await client.request('GET', '/api/2.0/x')).toMatchObject({ ok: true });
    expect(await cli.calls()).toEqual([`auth token --host ${server.url} --profile dev`]);
  });

  it('finds `databricks` on PATH and refreshes shortly before expiry', async () => {
    const cli = await fakeCli('databricks', printJson({ access_token: 'path-token', token_type: 'Bearer', expiry: '2026-01-01T01:00:00Z' }));
    const time = clock();
    const provider = credentialsFor({ type: 'databricks-cli' }, { host: 'https://adb-1.cloud.databricks.com', runCommand: withPath(cli.binDir), now: time.now });
    expect(await provider.headers()).toEqual({ ok: true, headers: { Authorization: 'Bearer path-token' } });
    time.set(Date.parse('2026-01-01T00:59:00Z'));
    expect(await provider.headers()).toMatchObject({ ok: true });
    expect(await cli.calls()).toHaveLength(1);
    time.set(Date.parse('2026-01-01T00:59:30Z'));
    expect(await provider.headers()).toMatchObject({ ok: true });
    expect(await cli.calls()).toEqual(['auth token --host https://adb-1.cloud.databricks.com', 'auth token --host https://adb-1.cloud.databricks.com']);
  });

  it.each([
    [
      'not on PATH',
      { type: 'databricks-cli' } as AuthMethod,
      'databricks-cli: databricks CLI not found on PATH: install it or set databricks_cli_path',
    ],
    [
      'a databricks_cli_path that does not exist',
      { type: 'databricks-cli', cliPath: '/nonexistent/bin/databricks' } as AuthMethod,
      'databricks-cli: databricks CLI not found at /nonexistent/bin/databricks: check databricks_cli_path',
    ],
    ['no az on PATH', { type: 'azure-cli' } as AuthMethod, 'azure-cli: az CLI not found on PATH: install the Azure CLI and run `az login`'],
  ])('says what to do when the CLI is missing: %s', async (_name, auth, error) => {
    const empty = await mkdtemp(join(dir, 'empty-'));
    const provider = credentialsFor(auth, { host: 'https://adb-1.2.azuredatabricks.net', runCommand: withPath(empty) });
    expect(await provider.headers()).toEqual({ ok: false, error, retryable: false });
  });

  it('stops a CLI that prints without end and says so, instead of buffering it', async () => {
    const cli = await fakeCli('databricks', 'while :; do printf "%0100d\\n" 0; done');
    const started = Date.now();
    const provider = credentialsFor({ type: 'databricks-cli', cliPath: cli.path }, { host: 'https://adb-1.cloud.databricks.com', runCommand });
    expect(await provider.headers()).toEqual({
      ok: false,
      error: `databricks-cli: cannot get access token: ${cli.path} printed more than 1 MB and was stopped; run it in a terminal to see why`,
      retryable: false,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it.each([
    [
      'no login for the host',
      'echo "Error: cache: databricks OAuth is not configured for this host. Try logging in again with \\`databricks auth login --host https://x\\` before retrying." >&2\necho "more detail" >&2\nexit 1',
      'databricks-cli: cannot get access token: Error: cache: databricks OAuth is not configured for this host. Try logging in again with `databricks auth login --host https://x` before retrying.',
    ],
    ['a bare exit code', 'exit 3', 'databricks-cli: cannot get access token: databricks exited with code 3'],
    [
      'output without a token (which is never quoted)',
      printJson({ refresh_token: 'REFRESH-SECRET', note: 'x' }),
      'databricks-cli: cannot get access token: `databricks auth token` printed no access_token',
    ],
  ])('fails clearly on %s', async (_name, script, error) => {
    const cli = await fakeCli('databricks', script);
    const server = await startServer((_req, res) => json(res, 200, {}));
    servers.push(server);
    const { client, logs } = clientWith(server.url, { type: 'databricks-cli' }, { runCommand: withPath(cli.binDir) });
    const result = await client.request('GET', '/api/2.0/x');
    expect(result).toEqual({ ok: false, error: { status: 0, errorCode: 'CREDENTIALS_UNAVAILABLE', message: `cannot authenticate: ${error}`, retryable: false } });
    expect(server.requests).toHaveLength(0);
    expect(`${JSON.stringify(result)}${logs.join('\n')}`).not.toContain('REFRESH-SECRET');
  });
});

describe('azure-cli', () => {
  const resourceId = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Databricks/workspaces/ws';
  const azOutput = printJson({ accessToken: 'az-token', expiresOn: '2030-01-01 00:00:00.000000', expires_on: 1893456000, tokenType: 'Bearer', tenant: 't' });

  it.each([
    ['with a tenant', { tenantId: 'tenant-1', workspaceResourceId: resourceId }, '--tenant tenant-1'],
    ['with only the workspace resource id', { workspaceResourceId: resourceId }, '--subscription sub-1'],
  ])('runs az account get-access-token %s and sends the workspace resource id', async (_name, extra, tail) => {
    const az = await fakeCli('az', azOutput);
    const server = await startServer((req, res) =>
      json(res, 200, { authorization: req.headers['authorization'], resource: req.headers['x-databricks-azure-workspace-resource-id'] }),
    );
    servers.push(server);
    const { client } = clientWith(server.url, { type: 'azure-cli', ...extra }, { runCommand: withPath(az.binDir) });
    expect(await client.request('GET', '/api/2.0/x')).toEqual({ ok: true, status: 200, value: { authorization: 'Bearer az-token', resource: resourceId } });
    await client.request('GET', '/api/2.0/x');
    expect(await az.calls()).toEqual([`account get-access-token --resource ${AZURE_DATABRICKS_APP_ID} --output json ${tail}`]);
  });

  it('uses the dev application id for a dev workspace and reads a local-time expiresOn', async () => {
    const az = await fakeCli('az', printJson({ accessToken: 'dev-token', expiresOn: '2026-01-01 01:00:00.000000', tokenType: 'Bearer' }));
    const time = clock(new Date(2026, 0, 1, 0, 0, 0).getTime());
    const provider = credentialsFor({ type: 'azure-cli' }, { host: 'https://adb-9.9.dev.azuredatabricks.net', runCommand: withPath(az.binDir), now: time.now });
    expect(await provider.headers()).toEqual({ ok: true, headers: { Authorization: 'Bearer dev-token' } });
    expect(await provider.headers()).toMatchObject({ ok: true });
    time.set(new Date(2026, 0, 1, 0, 59, 30).getTime());
    expect(await provider.headers()).toMatchObject({ ok: true });
    expect(await az.calls()).toEqual([
      'account get-access-token --resource 62a912ac-b58e-4c1d-89ea-b2dbfc7358fc --output json',
      'account get-access-token --resource 62a912ac-b58e-4c1d-89ea-b2dbfc7358fc --output json',
    ]);
  });

  it('runs az.cmd through a shell on Windows, refusing an argument that would need quoting', async () => {
    const az = await fakeCli('az.cmd', azOutput);
    const seen: Array<{ cmd: string; shell: boolean | undefined }> = [];
    const recording: RunCommand = (cmd, args, options) => {
      seen.push({ cmd, shell: options.shell });
      return withPath(az.binDir)(cmd, args, options);
    };
    const host = 'https://adb-1.2.azuredatabricks.net';
    const provider = credentialsFor({ type: 'azure-cli', tenantId: 'tenant-1' }, { host, runCommand: recording, platform: 'win32' });
    expect(await provider.headers()).toEqual({ ok: true, headers: { Authorization: 'Bearer az-token' } });
    expect(seen).toEqual([{ cmd: 'az.cmd', shell: true }]);
    expect(await az.calls()).toEqual([`account get-access-token --resource ${AZURE_DATABRICKS_APP_ID} --output json --tenant tenant-1`]);
    const hostile = credentialsFor({ type: 'azure-cli', tenantId: 't & calc' }, { host, runCommand: recording, platform: 'win32' });
    expect(await hostile.headers()).toMatchObject({ ok: false, error: expect.stringContaining('refusing to pass "t & calc" to az.cmd') });
    expect(seen).toHaveLength(1);
  });

  it('passes on the first line of az errors', async () => {
    const az = await fakeCli('az', `echo "ERROR: Please run 'az login' to setup account." >&2\necho "trace" >&2\nexit 1`);
    const provider = credentialsFor({ type: 'azure-cli' }, { host: 'https://adb-1.2.azuredatabricks.net', runCommand: withPath(az.binDir) });
    expect(await provider.headers()).toEqual({
      ok: false,
      error: "azure-cli: cannot get access token: ERROR: Please run 'az login' to setup account.",
      retryable: false,
    });
  });
});

describe('parseExpiry', () => {
  it.each([
    ['2030-01-01T00:00:00Z', Date.UTC(2030, 0, 1)],
    ['2030-01-01T00:00:00.123456789Z', Date.UTC(2030, 0, 1, 0, 0, 0, 123)],
    ['2030-01-01T02:00:00.5+02:00', Date.UTC(2030, 0, 1, 0, 0, 0, 500)],
    ['2030-01-01 00:00:00.000000', new Date(2030, 0, 1).getTime()],
    ['2030-01-01 00:00:00', new Date(2030, 0, 1).getTime()],
    ['soon', undefined],
    ['', undefined],
    [12, undefined],
  ])('%s', (value, expected) => {
    expect(parseExpiry(value)).toBe(expected);
  });
});
