// The credential strategies choppa-lsp implements (databricks-api.md §6.4): pat, basic,
// oauth-m2m, databricks-cli and azure-cli, each turning a resolved `AuthMethod` into request
// headers. Tokens are cached until shortly before expiry; failures name the strategy and the
// reason, never a secret.
import type { Dispatcher } from 'undici';
import type { AuthMethod } from '../../config/databricks-config.js';
import { Secret } from '../../config/redact.js';
import { parseApiError } from './api-error.js';
import { readText, undiciTransport, type HttpTransport } from './http-transport.js';
import { insecureTransportProblem } from './insecure-transport.js';
import { raceAbort } from '../promise-races.js';
import { classifyNetworkError, DEFAULT_REQUEST_TIMEOUT_MS } from './retry.js';
import { MAX_COMMAND_OUTPUT, type RunCommand } from './run-command.js';
import { scrubSecrets, secretsInHeaders } from './secret-scrubber.js';

/** Headers to send, or why there are none; `retryable` when trying again later may help. */
export type HeadersResult =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; error: string; retryable?: boolean };

/** One way of authenticating requests; `name` is the SDK auth type reported in `auth/<name>`. */
export interface CredentialProvider {
  readonly name: string;
  headers(signal?: AbortSignal): Promise<HeadersResult>;
}

export interface CredentialDeps {
  /** The normalized workspace URL (`ResolvedConfig.host`). */
  host: string;
  /** How CLIs are run (the real one is `runCommand` from `run-command.ts`). */
  runCommand: RunCommand;
  /** How the OAuth endpoints are reached (`http-transport.ts`); undici when absent. */
  transport?: HttpTransport;
  /** For the default undici transport: its global dispatcher when absent. */
  dispatcher?: Dispatcher;
  /** Clock for token expiry, in ms since the epoch. */
  now?: () => number;
  userAgent?: string;
  /** Per HTTP request to the OAuth endpoints. */
  requestTimeoutMs?: number;
  /** Per CLI invocation. */
  commandTimeoutMs?: number;
  /** The OS, for how CLIs are started (`az` is `az.cmd` on Windows); `process.platform` when absent. */
  platform?: NodeJS.Platform;
}

/**
 * A token is treated as expired this long before its expiry, as py-sdk does (Azure rejects
 * tokens with 30 s or less left).
 */
export const TOKEN_EXPIRY_MARGIN_MS = 40_000;

const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

// Azure login application ids by DNS zone (go-sdk `environments.go`).
const AZURE_APP_IDS: { suffix: string; appId: string }[] = [
  { suffix: '.dev.azuredatabricks.net', appId: '62a912ac-b58e-4c1d-89ea-b2dbfc7358fc' },
  { suffix: '.staging.azuredatabricks.net', appId: '4a67d088-db5c-48f1-9ff2-0aace800ae68' },
];

/** The Azure Databricks application id that `az` requests tokens for, in public clouds. */
export const AZURE_DATABRICKS_APP_ID = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d';

/** Builds the provider for a resolved auth method. Nothing runs until `headers()` is called. */
export function credentialsFor(auth: AuthMethod, deps: CredentialDeps): CredentialProvider {
  switch (auth.type) {
    case 'pat':
      return staticCredentials('pat', `Bearer ${auth.token.reveal()}`);
    case 'basic': {
      const encoded = Buffer.from(`${auth.username}:${auth.password.reveal()}`, 'utf8').toString('base64');
      return staticCredentials('basic', `Basic ${encoded}`);
    }
    case 'oauth-m2m':
      return oauthM2m(auth.clientId, auth.clientSecret, auth.scopes, deps);
    case 'databricks-cli':
      return databricksCli(auth.cliPath, auth.profile, deps);
    case 'azure-cli':
      return azureCli(auth.tenantId, auth.workspaceResourceId, deps);
  }
}

function staticCredentials(name: string, authorization: string): CredentialProvider {
  const value = new Secret(authorization);
  return {
    name,
    headers: async () => ({ ok: true, headers: { Authorization: value.reveal() } }),
  };
}

interface Token {
  authorization: Secret;
  /** Ms since the epoch; undefined when the issuer did not say (then it is not reused). */
  expiresAt?: number;
  extraHeaders?: Record<string, string>;
}

type TokenResult = { ok: true; token: Token } | { ok: false; error: string; retryable?: boolean };

/**
 * Caches a token until `TOKEN_EXPIRY_MARGIN_MS` before its expiry and shares one fetch among
 * concurrent callers. The fetch itself is not tied to any caller's signal, so one caller
 * giving up does not fail the others; each caller still returns as soon as its signal aborts.
 */
function cachedTokenProvider(name: string, fetchToken: () => Promise<TokenResult>, now: () => number): CredentialProvider {
  let cached: Token | undefined;
  let inFlight: Promise<TokenResult> | undefined;

  const fresh = (token: Token | undefined): token is Token =>
    token !== undefined && token.expiresAt !== undefined && now() < token.expiresAt - TOKEN_EXPIRY_MARGIN_MS;

  return {
    name,
    async headers(signal) {
      if (!fresh(cached)) {
        inFlight ??= fetchToken().finally(() => {
          inFlight = undefined;
        });
        const result = await raceAbort(inFlight, signal);
        if (result === 'aborted') return { ok: false, error: `${name}: cancelled` };
        if (!result.ok) return { ok: false, error: `${name}: ${result.error}`, retryable: result.retryable === true };
        cached = result.token;
        return { ok: true, headers: headersOf(result.token) };
      }
      return { ok: true, headers: headersOf(cached) };
    },
  };
}

function headersOf(token: Token): Record<string, string> {
  return { ...token.extraHeaders, Authorization: token.authorization.reveal() };
}

function oauthM2m(clientId: string, clientSecret: Secret, scopes: string[], deps: CredentialDeps): CredentialProvider {
  const now = deps.now ?? Date.now;
  const timeout = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const clientAuth = new Secret(`Basic ${Buffer.from(`${clientId}:${clientSecret.reveal()}`, 'utf8').toString('base64')}`);
  const secrets = (): string[] => [...secretsInHeaders({ Authorization: clientAuth.reveal() }), clientSecret.reveal()];
  let tokenEndpoint: string | undefined;
  const transport = deps.transport ?? undiciTransport(deps.dispatcher);

  const call = async (
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ): Promise<{ ok: true; status: number; body: string; headers: Record<string, string | string[] | undefined> } | { ok: false; error: string; retryable: boolean }> => {
    const insecure = insecureTransportProblem(url);
    if (insecure !== undefined) return { ok: false, error: insecure, retryable: false };
    try {
      const headers: Record<string, string> = { Accept: 'application/json', ...init.headers };
      if (deps.userAgent !== undefined) headers['User-Agent'] = deps.userAgent;
      const response = await transport(new URL(url), { method: init.method, headers, body: init.body, timeoutMs: timeout });
      return { ok: true, status: response.status, body: await readText(response.body), headers: response.headers };
    } catch (error) {
      const failure = classifyNetworkError(error);
      return { ok: false, error: `${new URL(url).host}: ${failure.description}`, retryable: failure.kind !== 'fatal' };
    }
  };

  const discover = async (): Promise<{ ok: true; endpoint: string } | { ok: false; error: string; retryable: boolean }> => {
    if (tokenEndpoint !== undefined) return { ok: true, endpoint: tokenEndpoint };
    const url = `${deps.host}/oidc/.well-known/oauth-authorization-server`;
    const response = await call(url, { method: 'GET', headers: {} });
    if (!response.ok) return response;
    if (response.status === 404) return { ok: false, error: 'databricks OAuth is not supported for this host', retryable: false };
    if (response.status !== 200) {
      const error = parseApiError({ status: response.status, headers: response.headers, body: response.body, now: now() });
      return { ok: false, error: `cannot discover the token endpoint: ${error.message}`, retryable: error.retryable };
    }
    const endpoint = parseJsonObject(response.body)?.['token_endpoint'];
    if (typeof endpoint !== 'string' || endpoint === '') {
      return { ok: false, error: `cannot discover the token endpoint: ${url} has no token_endpoint`, retryable: false };
    }
    tokenEndpoint = endpoint;
    return { ok: true, endpoint };
  };

  const fetchToken = async (): Promise<TokenResult> => {
    const discovered = await discover();
    if (!discovered.ok) return discovered;
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') });
    const response = await call(discovered.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: clientAuth.reveal() },
      body: form.toString(),
    });
    if (!response.ok) return response;
    if (response.status < 200 || response.status >= 300) {
      const error = parseApiError({ status: response.status, headers: response.headers, body: response.body, now: now() });
      return {
        ok: false,
        error: `cannot get access token: ${scrubSecrets(error.message, secrets())}`,
        retryable: error.retryable || response.status === 502 || response.status === 504,
      };
    }
    const json = parseJsonObject(response.body);
    const accessToken = json?.['access_token'];
    if (typeof accessToken !== 'string' || accessToken === '') {
      return { ok: false, error: 'cannot get access token: the token endpoint returned no access_token' };
    }
    // The CLI's test server sends `expires_in` as a string.
    const expiresIn = Number(json?.['expires_in']);
    const tokenType = json?.['token_type'];
    return {
      ok: true,
      token: {
        authorization: new Secret(`${typeof tokenType === 'string' && tokenType !== '' ? tokenType : 'Bearer'} ${accessToken}`),
        ...(Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresAt: now() + expiresIn * 1000 } : {}),
      },
    };
  };

  return cachedTokenProvider('oauth-m2m', fetchToken, now);
}

function databricksCli(cliPath: string | undefined, profile: string | undefined, deps: CredentialDeps): CredentialProvider {
  const now = deps.now ?? Date.now;
  const command = cliPath ?? 'databricks';
  const args = ['auth', 'token', '--host', deps.host, ...(profile === undefined ? [] : ['--profile', profile])];
  const notFound =
    cliPath === undefined
      ? 'databricks CLI not found on PATH: install it or set databricks_cli_path'
      : `databricks CLI not found at ${cliPath}: check databricks_cli_path`;

  const fetchToken = async (): Promise<TokenResult> => {
    const ran = await runCli(deps, command, args, notFound);
    if (!ran.ok) return ran;
    if (ran.code !== 0) {
      const reason = firstLine(ran.stderr) ?? `${command} exited with code ${ran.code}`;
      // SDKs treat this as "no login for this host"; say how to make one.
      const hint =
        reason.includes('databricks OAuth is not') && !reason.includes('auth login')
          ? ` (run \`databricks auth login --host ${deps.host}\`)`
          : '';
      return { ok: false, error: `cannot get access token: ${reason}${hint}` };
    }
    const json = parseJsonObject(ran.stdout);
    const accessToken = json?.['access_token'];
    // Never quote the output: it is where the token would be.
    if (typeof accessToken !== 'string' || accessToken === '') {
      return { ok: false, error: `cannot get access token: \`${command} auth token\` printed no access_token` };
    }
    const tokenType = json?.['token_type'];
    const expiresAt = parseExpiry(json?.['expiry']);
    return {
      ok: true,
      token: {
        authorization: new Secret(`${typeof tokenType === 'string' && tokenType !== '' ? tokenType : 'Bearer'} ${accessToken}`),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      },
    };
  };
  return cachedTokenProvider('databricks-cli', fetchToken, now);
}

function azureCli(tenantId: string | undefined, workspaceResourceId: string | undefined, deps: CredentialDeps): CredentialProvider {
  const now = deps.now ?? Date.now;
  const hostname = new URL(deps.host).hostname;
  const appId = AZURE_APP_IDS.find((zone) => hostname.endsWith(zone.suffix))?.appId ?? AZURE_DATABRICKS_APP_ID;
  const args = ['account', 'get-access-token', '--resource', appId, '--output', 'json'];
  // Go SDK: the tenant when known, else the workspace's subscription (3rd segment of the id).
  const subscription = workspaceResourceId?.split('/')[2];
  if (tenantId !== undefined) args.push('--tenant', tenantId);
  else if (subscription !== undefined && subscription !== '') args.push('--subscription', subscription);
  const extraHeaders: Record<string, string> =
    workspaceResourceId === undefined ? {} : { 'X-Databricks-Azure-Workspace-Resource-Id': workspaceResourceId };

  const fetchToken = async (): Promise<TokenResult> => {
    // On Windows the Azure CLI is a batch file, which only a shell runs (the Python SDK uses
    // shell=True there); the arguments are then checked to need no quoting.
    const windows = (deps.platform ?? process.platform) === 'win32';
    const unsafe = windows ? args.find((arg) => !SHELL_SAFE_ARGUMENT.test(arg)) : undefined;
    if (unsafe !== undefined) return { ok: false, error: `refusing to pass ${JSON.stringify(unsafe)} to az.cmd through a shell` };
    const ran = await runCli(deps, windows ? 'az.cmd' : 'az', args, 'az CLI not found on PATH: install the Azure CLI and run `az login`', windows);
    if (!ran.ok) return ran;
    if (ran.code !== 0) {
      return { ok: false, error: `cannot get access token: ${firstLine(ran.stderr) ?? `az exited with code ${ran.code}`}` };
    }
    const json = parseJsonObject(ran.stdout);
    const accessToken = json?.['accessToken'];
    if (typeof accessToken !== 'string' || accessToken === '') {
      return { ok: false, error: 'cannot get access token: `az account get-access-token` printed no accessToken' };
    }
    const tokenType = json?.['tokenType'];
    // `expires_on` (epoch seconds, newer az) is unambiguous; `expiresOn` is local time.
    const epoch = Number(json?.['expires_on']);
    const expiresAt = Number.isFinite(epoch) && epoch > 0 ? epoch * 1000 : parseExpiry(json?.['expiresOn']);
    return {
      ok: true,
      token: {
        authorization: new Secret(`${typeof tokenType === 'string' && tokenType !== '' ? tokenType : 'Bearer'} ${accessToken}`),
        extraHeaders,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      },
    };
  };
  return cachedTokenProvider('azure-cli', fetchToken, now);
}

type CliRun = { ok: true; code: number | null; stdout: string; stderr: string } | { ok: false; error: string };

/** Arguments a shell passes on unchanged (ids, GUIDs, URLs without spaces or metacharacters). */
const SHELL_SAFE_ARGUMENT = /^[A-Za-z0-9._:\/=-]+$/;

async function runCli(deps: CredentialDeps, command: string, args: string[], notFound: string, shell = false): Promise<CliRun> {
  const timeoutMs = deps.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  try {
    const output = await deps.runCommand(command, args, { timeoutMs, ...(shell ? { shell } : {}) });
    if (output.overflowed) return { ok: false, error: `cannot get access token: ${command} printed more than ${MAX_COMMAND_OUTPUT / 1024 / 1024} MB and was stopped; run it in a terminal to see why` };
    if (output.code === null) return { ok: false, error: `cannot get access token: ${command} did not finish within ${timeoutMs} ms` };
    return { ok: true, ...output };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ENOENT') return { ok: false, error: notFound };
    if (code === 'EACCES') return { ok: false, error: `cannot run ${command}: permission denied` };
    return { ok: false, error: `cannot run ${command}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function firstLine(text: string): string | undefined {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (line === undefined) return undefined;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * An expiry as the CLIs print it: RFC 3339 with up to nanoseconds (Go's `oauth2.Token`), or
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` in local time (az, older CLIs).
 */
export function parseExpiry(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  // JavaScript dates carry milliseconds; cut longer fractions and accept a space for `T`.
  const normalized = value.trim().replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1');
  const parsed = Date.parse(normalized);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
