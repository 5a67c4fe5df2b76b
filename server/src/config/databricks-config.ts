// Decides which Databricks workspace and credentials choppa-lsp uses, with the official SDKs'
// unified-authentication rules (auth-resolution.md): settings > environment > config-file
// profile, the SDKs' error wording, and no secret in anything it returns. Pure: every input
// (environment, file reader, home directory) is injected; it never throws.
import { ATTRIBUTES, type ConfigAttribute, type DatabricksSettings } from './attributes.js';
import { isAzureHost, normalizeHost } from './host.js';
import { parseIni, sectionValues } from './ini.js';
import { Secret, redactUserinfo, redactValue } from './redact.js';

export type { DatabricksSettings } from './attributes.js';

/** Where a value came from; file sources read `config file <path> profile <name>`. */
export type ConfigSource = 'setting' | 'env' | 'default' | `config file ${string}`;

/** One attribute as it may be shown: secrets are already `***`. */
export interface SourcedValue {
  value: string;
  source: ConfigSource;
  /** The variable it was read from, when `source` is `env`. */
  env?: string;
}

/** Every attribute that is set, keyed by its SDK name (`host`, `token`, `cluster_id`, ...). */
export type ConfigSources = Record<string, SourcedValue>;

/** The authentication decided, with what it needs; credentials are `Secret`s. */
export type AuthMethod =
  | { type: 'pat'; token: Secret }
  | { type: 'basic'; username: string; password: Secret }
  | { type: 'oauth-m2m'; clientId: string; clientSecret: Secret; scopes: string[] }
  /** `databricks auth token --profile <profile>` or `--host <host>`; the CLI holds the login. */
  | { type: 'databricks-cli'; cliPath?: string; profile?: string }
  /** `az account get-access-token`; only for Azure workspaces. */
  | { type: 'azure-cli'; tenantId?: string; workspaceResourceId?: string };

export type AuthType = AuthMethod['type'];

/** The auth types choppa-lsp implements, in the Go SDK's order of trial. */
export const SUPPORTED_AUTH_TYPES: readonly AuthType[] = ['pat', 'basic', 'oauth-m2m', 'databricks-cli', 'azure-cli'];

/** What happened to the config file. */
export interface ConfigFileStatus {
  /** As configured (`~/.databrickscfg` by default), before `~` expansion. */
  path: string;
  /** The path actually read. */
  resolvedPath: string;
  /**
   * `skipped`: no profile was asked for and host or a credential was already set;
   * `unreadable`: it could not be read or parsed (the error says why).
   */
  state: 'skipped' | 'missing' | 'read' | 'unreadable';
  /** The section values came from (`DEFAULT` on the silent fallback). */
  profile?: string;
  /** The profile asked for (by name or by `default_profile`) that the file does not have. */
  missingProfile?: string;
  /** The file's profiles, in file order, once it was parsed: its non-empty sections but `__settings__`. */
  profiles?: string[];
}

export interface ResolvedConfig {
  /** Normalized: scheme and host only. */
  host: string;
  auth: AuthMethod;
  /**
   * Strategies to try, in SDK order, if `auth` turns out unusable at run time. Only the CLI
   * strategies can fail for reasons a pure resolver cannot see (no cached login, no `az`).
   */
  fallbacks: AuthMethod[];
  /** The profile named explicitly or by `[__settings__] default_profile`. */
  profile?: string;
  clusterId?: string;
  serverlessComputeId?: string;
  warehouseId?: string;
  accountId?: string;
  workspaceId?: string;
  isAzure: boolean;
}

export type ResolveResult =
  | { ok: true; config: ResolvedConfig; sources: ConfigSources; file: ConfigFileStatus }
  | { ok: false; error: string; sources: ConfigSources; file: ConfigFileStatus };

export interface ResolveInput {
  settings: DatabricksSettings;
  env: Readonly<Record<string, string | undefined>>;
  /** Returns the file's text, or undefined when it does not exist. May throw for other I/O errors. */
  readFile: (path: string) => string | undefined;
  homeDir: string;
  /**
   * Which CLI-based strategies the caller found usable (`databricks` / `az` installed and
   * logged in). Only a process can tell, so the caller probes and says; absent means unusable,
   * which is how the SDKs' own test cases run. An explicit auth type is used regardless. Read
   * only when a CLI strategy is in question, so a caller may probe in a getter.
   */
  tools?: { databricksCli?: boolean; azureCli?: boolean };
}

export const AUTH_DOCS_URL =
  'https://docs.databricks.com/en/dev-tools/auth.html#databricks-client-unified-authentication';

const CANNOT_CONFIGURE = `default auth: cannot configure default credentials, please check ${AUTH_DOCS_URL} to configure credentials for your preferred authentication method`;

const DEFAULT_CONFIG_FILE = '~/.databrickscfg';
const SETTINGS_SECTION = '__settings__';

// Auth types the SDKs know but choppa-lsp does not implement: refused by name, rather than
// with the SDK's "not found", because they do exist.
const KNOWN_UNSUPPORTED = [
  'metadata-service',
  'oauth-u2m',
  'external-browser',
  'env-oidc',
  'file-oidc',
  'github-oidc',
  'github-oidc-azure',
  'azure-devops-oidc',
  'azure-msi',
  'azure-client-secret',
  'google-credentials',
  'google-id',
  'runtime',
  'runtime-oauth',
  'model-serving',
];

interface Entry {
  value: string;
  source: ConfigSource;
  env?: string;
}

type Values = Map<string, Entry>;
type Step = { ok: true } | { ok: false; error: string };

/**
 * Resolves the Databricks configuration from explicit settings, then environment variables,
 * then a profile of the config file; validates it and picks the auth strategy. Errors carry
 * the SDKs' wording and their `. Config: ... Env: ...` suffix, with secrets as `***`.
 */
export function resolveConfig(input: ResolveInput): ResolveResult {
  const values: Values = new Map();
  for (const attr of ATTRIBUTES) {
    const value = attr.setting === undefined ? undefined : input.settings[attr.setting];
    if (isSet(attr, value)) values.set(attr.name, { value, source: 'setting' });
  }
  for (const attr of ATTRIBUTES) {
    if (values.has(attr.name)) continue;
    for (const name of attr.env) {
      const value = input.env[name];
      if (!isSet(attr, value)) continue;
      values.set(attr.name, { value, source: 'env', env: name });
      break;
    }
  }

  const configured = values.get('config_file')?.value ?? DEFAULT_CONFIG_FILE;
  const file: ConfigFileStatus = {
    path: configured,
    resolvedPath: expandHome(configured, input.homeDir),
    state: 'skipped',
  };
  const fail = (error: string): ResolveResult => ({
    ok: false,
    error: withDebug(error, values, input.env),
    sources: sourcesOf(values, file),
    file,
  });

  const loaded = loadProfile(values, file, input.readFile);
  if (!loaded.ok) return fail(loaded.error);

  const validated = validate(values);
  if (!validated.ok) return fail(validated.error);

  // Normalized only after validation, so `validate:` and `resolve:` errors show the host as
  // given, as the Go SDK does; `default auth:` errors show it normalized.
  const rawHost = values.get('host');
  if (rawHost !== undefined) {
    const normalized = normalizeHost(rawHost.value);
    if (!normalized.ok) return fail(`invalid host ${redactUserinfo(rawHost.value)}: ${normalized.error}`);
    values.set('host', { ...rawHost, value: normalized.host });
    if (normalized.workspaceId !== undefined && !values.has('workspace_id')) {
      values.set('workspace_id', { ...rawHost, value: normalized.workspaceId });
    }
  }

  const chosen = chooseAuth(values, input.tools ?? {});
  if (!chosen.ok) return fail(chosen.error);
  const host = values.get('host')?.value ?? '';
  const plain = plainHttpProblem(host);
  if (plain !== undefined) return fail(plain);

  const get = (name: string): string | undefined => values.get(name)?.value;
  const config: ResolvedConfig = {
    host,
    auth: chosen.auth,
    fallbacks: chosen.fallbacks,
    profile: get('profile'),
    clusterId: get('cluster_id'),
    serverlessComputeId: get('serverless_compute_id'),
    warehouseId: get('warehouse_id'),
    accountId: get('account_id'),
    workspaceId: get('workspace_id'),
    isAzure: isAzureHost(host) || values.has('azure_workspace_resource_id'),
  };
  const sources = sourcesOf(values, file);
  if (values.get('auth_type') === undefined) sources['auth_type'] = { value: chosen.auth.type, source: 'default' };
  return { ok: true, config: stripUndefined(config), sources, file };
}

function isSet(attr: ConfigAttribute, value: string | null | undefined): value is string {
  if (typeof value !== 'string' || value === '') return false;
  // Go parses bool attributes: `ARM_USE_MSI=false` leaves the attribute unset.
  return attr.bool !== true || ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

// Go expands a leading `~` by plain concatenation with the home directory.
function expandHome(path: string, homeDir: string): string {
  return path.startsWith('~') ? `${homeDir}${path.slice(1)}` : path;
}

function loadProfile(values: Values, file: ConfigFileStatus, readFile: ResolveInput['readFile']): Step {
  const requested = values.get('profile')?.value;
  const authSet = ATTRIBUTES.some((a) => a.family !== undefined && values.has(a.name));
  if (requested === undefined && (authSet || values.has('host') || values.has('azure_workspace_resource_id'))) {
    return { ok: true };
  }

  let text: string | undefined;
  try {
    text = readFile(file.resolvedPath);
  } catch (error) {
    file.state = 'unreadable';
    return { ok: false, error: `resolve: cannot parse config file: ${messageOf(error)}` };
  }
  if (text === undefined) {
    file.state = 'missing';
    return { ok: true };
  }
  file.state = 'read';
  const parsed = parseIni(text);
  // The reason, not go-ini's message: that one quotes the offending line, which may be a
  // pasted token.
  if (!parsed.ok) {
    file.state = 'unreadable';
    return {
      ok: false,
      error: `resolve: cannot parse config file: ${parsed.reason} (${file.resolvedPath}, line ${parsed.line})`,
    };
  }

  // Without empty sections, which Go treats as missing (below).
  file.profiles = parsed.sections
    .filter((section) => section.name !== SETTINGS_SECTION && section.keys.length > 0)
    .map((section) => section.name);
  let profile = requested;
  let viaDefaultProfile = false;
  if (profile === undefined) {
    const named = sectionValues(parsed.sections, SETTINGS_SECTION)?.get('default_profile')?.trim();
    if (named !== undefined && named !== '') {
      profile = named;
      viaDefaultProfile = true;
    }
  }
  if (profile === SETTINGS_SECTION) {
    return {
      ok: false,
      error: `resolve: ${file.resolvedPath}: ${SETTINGS_SECTION} is a reserved section name and cannot be used as a profile`,
    };
  }
  const fallback = profile === undefined;
  const name = profile ?? 'DEFAULT';
  const section = sectionValues(parsed.sections, name);
  // Go treats an existing but empty section like a missing one.
  if (section === undefined || section.size === 0) {
    if (fallback) return { ok: true };
    file.missingProfile = name;
    return { ok: false, error: `resolve: ${file.resolvedPath} has no ${name} profile configured` };
  }

  file.profile = name;
  const source: ConfigSource = `config file ${file.path} profile ${name}`;
  for (const attr of ATTRIBUTES) {
    if (attr.notInFile === true || values.has(attr.name)) continue;
    const value = section.get(attr.name);
    if (isSet(attr, value)) values.set(attr.name, { value, source });
  }
  if (viaDefaultProfile) {
    values.set('profile', { value: name, source: `config file ${file.path} [${SETTINGS_SECTION}] default_profile` });
  }
  return { ok: true };
}

function validate(values: Values): Step {
  if (values.has('auth_type')) return { ok: true };
  const families = new Set<string>();
  for (const attr of ATTRIBUTES) {
    if (attr.family !== undefined && values.has(attr.name)) families.add(attr.family);
  }
  if (families.size <= 1) return { ok: true };
  const names = [...families].sort().join(' and ');
  return { ok: false, error: `validate: more than one authorization method configured: ${names}` };
}

type Chosen = { ok: true; auth: AuthMethod; fallbacks: AuthMethod[] } | { ok: false; error: string };
type Built = { ok: true; auth: AuthMethod } | { ok: false; reason: string };

function chooseAuth(values: Values, tools: NonNullable<ResolveInput['tools']>): Chosen {
  const authType = values.get('auth_type')?.value;
  if (authType !== undefined) {
    if (!(SUPPORTED_AUTH_TYPES as readonly string[]).includes(authType)) {
      if (KNOWN_UNSUPPORTED.includes(authType)) {
        return {
          ok: false,
          error: `default auth: ${authType}: not supported by choppa-lsp (supported: ${SUPPORTED_AUTH_TYPES.join(', ')})`,
        };
      }
      return {
        ok: false,
        error: `auth type "${authType}" not found, please check ${AUTH_DOCS_URL} for a list of supported auth types`,
      };
    }
    const built = build(authType as AuthType, values);
    if (!built.ok) return { ok: false, error: `default auth: ${authType}: ${built.reason}` };
    return { ok: true, auth: built.auth, fallbacks: [] };
  }

  // The first strategy that can configure itself wins. The CLI ones also need their tool,
  // and even a probed tool can fail later (an expired login), so a CLI choice carries the
  // next usable one as a fallback. Tools are asked about only when a CLI strategy is in
  // question (the caller's probe looks along PATH: a resolve with a token probes nothing).
  const usable = (type: AuthType): boolean =>
    type === 'databricks-cli' ? tools.databricksCli === true : type === 'azure-cli' ? tools.azureCli === true : true;
  const isCli = (auth: AuthMethod): boolean => auth.type === 'databricks-cli' || auth.type === 'azure-cli';
  const candidates: AuthMethod[] = [];
  for (const type of SUPPORTED_AUTH_TYPES) {
    if (candidates.length > 0 && !isCli(candidates[0]!)) break;
    const built = build(type, values);
    if (built.ok && usable(type)) candidates.push(built.auth);
  }
  const [first, ...rest] = candidates;
  if (first === undefined) return { ok: false, error: CANNOT_CONFIGURE };
  return { ok: true, auth: first, fallbacks: isCli(first) ? rest : [] };
}

function build(type: AuthType, values: Values): Built {
  const get = (name: string): string | undefined => values.get(name)?.value;
  const need = (...names: string[]): string | undefined => {
    const missing = names.filter((n) => get(n) === undefined);
    if (missing.length === 0) return undefined;
    return `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} required`;
  };
  switch (type) {
    case 'pat': {
      const missing = need('host', 'token');
      if (missing !== undefined) return { ok: false, reason: missing };
      return { ok: true, auth: { type, token: new Secret(get('token') ?? '') } };
    }
    case 'basic': {
      const missing = need('host', 'username', 'password');
      if (missing !== undefined) return { ok: false, reason: missing };
      return { ok: true, auth: { type, username: get('username') ?? '', password: new Secret(get('password') ?? '') } };
    }
    case 'oauth-m2m': {
      const missing = need('host', 'client_id', 'client_secret');
      if (missing !== undefined) return { ok: false, reason: missing };
      const auth: AuthMethod = {
        type,
        clientId: get('client_id') ?? '',
        clientSecret: new Secret(get('client_secret') ?? ''),
        scopes: parseScopes(get('scopes')),
      };
      return { ok: true, auth };
    }
    case 'databricks-cli': {
      const missing = need('host');
      if (missing !== undefined) return { ok: false, reason: missing };
      return { ok: true, auth: stripUndefined({ type, cliPath: get('databricks_cli_path'), profile: get('profile') }) };
    }
    case 'azure-cli': {
      const missing = need('host');
      if (missing !== undefined) return { ok: false, reason: missing };
      const resourceId = get('azure_workspace_resource_id');
      const host = get('host') ?? '';
      if (resourceId === undefined && !isAzureHost(host)) {
        return { ok: false, reason: `${host} is not an Azure Databricks workspace and azure_workspace_resource_id is not set` };
      }
      return { ok: true, auth: stripUndefined({ type, tenantId: get('azure_tenant_id'), workspaceResourceId: resourceId }) };
    }
  }
}

/** Comma or space separated, sorted, de-duplicated; `all-apis` when empty (Go SDK). */
function parseScopes(raw: string | undefined): string[] {
  const scopes = [...new Set((raw ?? '').split(/[\s,]+/).filter((s) => s !== ''))].sort();
  return scopes.length === 0 ? ['all-apis'] : scopes;
}

// DESIGN §10: a credential never travels over plain http:// except to this machine, which is
// where the test emulator listens.
function plainHttpProblem(host: string): string | undefined {
  if (!host.startsWith('http://')) return undefined;
  const hostname = new URL(host).hostname;
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
  if (loopback) return undefined;
  return `refusing to send credentials over plain http:// to ${host}: use https://, or http:// only for a loopback host`;
}

function withDebug(error: string, values: Values, env: ResolveInput['env']): string {
  const debug = debugString(values, env);
  return debug === '' ? error : `${error}. ${debug}`;
}

/** The SDKs' debug suffix: attributes in declaration order, then the env vars that are set for them. */
function debugString(values: Values, env: ResolveInput['env']): string {
  const used: string[] = [];
  const envs: string[] = [];
  for (const attr of ATTRIBUTES) {
    const entry = values.get(attr.name);
    if (entry === undefined || attr.internal === true) continue;
    used.push(`${attr.name}=${redactValue(attr.name, entry.value)}`);
    for (const name of attr.env) {
      const value = env[name];
      if (value !== undefined && value !== '') envs.push(name);
    }
  }
  const parts: string[] = [];
  if (used.length > 0) parts.push(`Config: ${used.join(', ')}`);
  if (envs.length > 0) parts.push(`Env: ${envs.join(', ')}`);
  return parts.join('. ');
}

function sourcesOf(values: Values, file: ConfigFileStatus): ConfigSources {
  const sources: ConfigSources = {};
  for (const attr of ATTRIBUTES) {
    const entry = values.get(attr.name);
    if (entry === undefined) continue;
    sources[attr.name] = stripUndefined({
      value: redactValue(attr.name, entry.value),
      source: entry.source,
      env: entry.env,
    });
  }
  if (sources['config_file'] === undefined) sources['config_file'] = { value: file.path, source: 'default' };
  if (sources['profile'] === undefined && file.profile !== undefined) {
    sources['profile'] = { value: file.profile, source: 'default' };
  }
  return sources;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Keeps results free of `key: undefined`, so snapshots and JSON show only what is set.
function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Where the cluster of a run comes from: the code's literal, then the resolved configuration. */
export type ClusterSource = 'code' | ConfigSource;

export type ClusterChoice =
  | { ok: true; kind: 'cluster'; clusterId: string; source: ClusterSource }
  | { ok: true; kind: 'serverless'; serverlessComputeId: string; source: ConfigSource }
  | { ok: false; error: string };

/**
 * Applies the Choppa rule: `Choppa(cluster_id=...)` in the code, then the editor setting, then
 * `DATABRICKS_CLUSTER_ID`, then `cluster_id` of the resolved profile (the last three are
 * already ordered by `resolveConfig`). Without a cluster, a serverless compute id is used;
 * without either, the error says where it looked.
 */
export function resolveCluster(codeClusterId: string | undefined, resolved: ResolveResult): ClusterChoice {
  if (codeClusterId !== undefined && codeClusterId !== '') {
    return { ok: true, kind: 'cluster', clusterId: codeClusterId, source: 'code' };
  }
  const cluster = resolved.sources['cluster_id'];
  if (cluster !== undefined) return { ok: true, kind: 'cluster', clusterId: cluster.value, source: cluster.source };
  const serverless = resolved.sources['serverless_compute_id'];
  if (serverless !== undefined) {
    return { ok: true, kind: 'serverless', serverlessComputeId: serverless.value, source: serverless.source };
  }
  return { ok: false, error: `no cluster configured: looked at ${clusterPlaces(resolved.file).join(', ')}` };
}

function clusterPlaces(file: ConfigFileStatus): string[] {
  const places = ['Choppa(cluster_id=...) in the code', 'the clusterId setting', 'DATABRICKS_CLUSTER_ID'];
  switch (file.state) {
    case 'read':
      places.push(
        file.profile === undefined
          ? `${file.path} (no DEFAULT profile)`
          : `cluster_id in profile ${file.profile} of ${file.path}`,
      );
      break;
    case 'missing':
      places.push(`${file.path} (not found)`);
      break;
    case 'unreadable':
      places.push(`${file.path} (could not be read)`);
      break;
    case 'skipped':
      places.push(`${file.path} (not read: host or credentials were already set and no profile was named)`);
      break;
  }
  return places;
}
