// Configuration resolution against every rule of auth-resolution.md: the SDKs' unified-auth
// cases (expected strings copied from databricks-api.md §6.2), precedence, the skip-file rule,
// default_profile, dotted profiles, host normalisation, the cluster rule and redaction.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AUTH_DOCS_URL,
  type DatabricksSettings,
  type ResolveResult,
  resolveCluster,
  resolveConfig,
} from '../../server/src/config/databricks-config.js';
import { describeConfig } from '../../server/src/config/describe-config.js';

const CANNOT = `default auth: cannot configure default credentials, please check ${AUTH_DOCS_URL} to configure credentials for your preferred authentication method`;

interface Case {
  settings?: DatabricksSettings;
  env?: Record<string, string>;
  /** Files by absolute path. */
  files?: Record<string, string>;
  home?: string;
  tools?: { databricksCli?: boolean; azureCli?: boolean };
}

function resolve(c: Case): ResolveResult {
  const files = c.files ?? {};
  return resolveConfig({
    settings: c.settings ?? {},
    env: c.env ?? {},
    readFile: (path) => files[path],
    homeDir: c.home ?? '/home/u',
    tools: c.tools,
  });
}

/** `pat https://x` on success, the error string otherwise: what the SDK tests assert. */
function outcome(c: Case): string {
  const result = resolve(c);
  return result.ok ? `${result.config.auth.type} ${result.config.host}` : result.error;
}

const HOME_CFG = '/home/u/.databrickscfg';

// The SDKs' unified test fixtures, reduced to what these cases read.
const TESTDATA = {
  [HOME_CFG]: [
    '[DEFAULT]',
    'host = https://dbc-XXXXXXXX-YYYY.cloud.databricks.com/',
    'token = dapiXYZ',
    '',
    '[nohost]',
    'token = dapiNOHOST',
    '',
    '[pat.with.dot]',
    'host = https://dotted.cloud.databricks.com',
    'token = dapiDOT',
    '',
    '[empty]',
  ].join('\n'),
};

describe('unified-auth cases shared by the SDKs', () => {
  it.each<[string, Case, string]>([
    ['nothing', {}, CANNOT],
    ['DATABRICKS_HOST only', { env: { DATABRICKS_HOST: 'x' } }, `${CANNOT}. Config: host=https://x. Env: DATABRICKS_HOST`],
    ['DATABRICKS_TOKEN only', { env: { DATABRICKS_TOKEN: 'x' } }, `${CANNOT}. Config: token=***. Env: DATABRICKS_TOKEN`],
    ['host and token', { env: { DATABRICKS_HOST: 'x', DATABRICKS_TOKEN: 'x' } }, 'pat https://x'],
    [
      'explicit host beats env',
      {
        settings: { host: 'y' },
        env: { DATABRICKS_HOST: 'x', DATABRICKS_USERNAME: 'x', DATABRICKS_PASSWORD: 'x' },
      },
      'basic https://y',
    ],
    [
      'two auth families',
      {
        env: { DATABRICKS_HOST: 'x', DATABRICKS_TOKEN: 'x', DATABRICKS_USERNAME: 'x', DATABRICKS_PASSWORD: 'x' },
      },
      'validate: more than one authorization method configured: basic and pat. Config: host=x, token=***, username=x, password=***. Env: DATABRICKS_HOST, DATABRICKS_TOKEN, DATABRICKS_USERNAME, DATABRICKS_PASSWORD',
    ],
    [
      'auth_type setting picks one family',
      {
        settings: { authType: 'basic' },
        env: { DATABRICKS_HOST: 'x', DATABRICKS_TOKEN: 'x', DATABRICKS_USERNAME: 'x', DATABRICKS_PASSWORD: 'x' },
      },
      'basic https://x',
    ],
    [
      'DATABRICKS_AUTH_TYPE picks one family',
      {
        env: {
          DATABRICKS_HOST: 'x',
          DATABRICKS_TOKEN: 'x',
          DATABRICKS_USERNAME: 'x',
          DATABRICKS_PASSWORD: 'x',
          DATABRICKS_AUTH_TYPE: 'basic',
        },
      },
      'basic https://x',
    ],
    [
      'missing config file is not an error',
      { env: { DATABRICKS_CONFIG_FILE: 'x' } },
      `${CANNOT}. Config: config_file=x. Env: DATABRICKS_CONFIG_FILE`,
    ],
    [
      'profile without host',
      { env: { DATABRICKS_CONFIG_PROFILE: 'nohost' }, files: TESTDATA },
      `${CANNOT}. Config: token=***, profile=nohost. Env: DATABRICKS_CONFIG_PROFILE`,
    ],
    [
      'profile token plus env username',
      { env: { DATABRICKS_CONFIG_PROFILE: 'nohost', DATABRICKS_USERNAME: 'x' }, files: TESTDATA },
      'validate: more than one authorization method configured: basic and pat. Config: token=***, username=x, profile=nohost. Env: DATABRICKS_USERNAME, DATABRICKS_CONFIG_PROFILE',
    ],
    [
      'dotted profile name is a literal section',
      { env: { DATABRICKS_CONFIG_PROFILE: 'pat.with.dot' }, files: TESTDATA },
      'pat https://dotted.cloud.databricks.com',
    ],
    [
      'asked-for DEFAULT missing',
      {
        env: { DATABRICKS_CONFIG_PROFILE: 'DEFAULT' },
        home: 'testdata/corrupt',
        files: { 'testdata/corrupt/.databrickscfg': '[other]\nhost = x\n' },
      },
      'resolve: testdata/corrupt/.databrickscfg has no DEFAULT profile configured. Config: profile=DEFAULT. Env: DATABRICKS_CONFIG_PROFILE',
    ],
    ['empty DEFAULT is skipped silently', { files: { [HOME_CFG]: '[DEFAULT]\n' } }, CANNOT],
    ['missing DEFAULT is skipped silently', { files: { [HOME_CFG]: '[other]\nhost = x\n' } }, CANNOT],
    [
      'Azure host with trailing slash',
      { settings: { host: 'https://adb-xxx.y.azuredatabricks.net/', token: 't' } },
      'pat https://adb-xxx.y.azuredatabricks.net',
    ],
    [
      'Azure resource id without host',
      { settings: { azureWorkspaceResourceId: '/sub/rg/ws' } },
      `${CANNOT}. Config: azure_workspace_resource_id=/sub/rg/ws`,
    ],
    [
      'explicit host skips the file',
      { settings: { host: 'x' }, files: TESTDATA },
      `${CANNOT}. Config: host=https://x`,
    ],
  ])('%s', (_name, c, expected) => {
    expect(outcome(c)).toBe(expected);
  });

  it('reports Azure for an Azure host', () => {
    const result = resolve({ settings: { host: 'https://adb-xxx.y.azuredatabricks.net/', token: 't' } });
    expect(result.ok && result.config.isAzure).toBe(true);
  });
});

describe('precedence: setting > env > profile', () => {
  const files = {
    [HOME_CFG]: [
      '[work]',
      'host = https://file.cloud.databricks.com',
      'token = file-token',
      'cluster_id = file-cluster',
      'warehouse_id = file-warehouse',
    ].join('\n'),
  };

  it('fills each attribute from the highest source that has it', () => {
    const result = resolve({
      settings: { profile: 'work', clusterId: 'setting-cluster' },
      env: { DATABRICKS_HOST: 'https://env.cloud.databricks.com', DATABRICKS_CLUSTER_ID: 'env-cluster' },
      files,
    });
    expect(result.ok).toBe(true);
    expect(result.sources).toMatchInlineSnapshot(`
      {
        "auth_type": {
          "source": "default",
          "value": "pat",
        },
        "cluster_id": {
          "source": "setting",
          "value": "setting-cluster",
        },
        "config_file": {
          "source": "default",
          "value": "~/.databrickscfg",
        },
        "host": {
          "env": "DATABRICKS_HOST",
          "source": "env",
          "value": "https://env.cloud.databricks.com",
        },
        "profile": {
          "source": "setting",
          "value": "work",
        },
        "token": {
          "source": "config file ~/.databrickscfg profile work",
          "value": "***",
        },
        "warehouse_id": {
          "source": "config file ~/.databrickscfg profile work",
          "value": "file-warehouse",
        },
      }
    `);
  });

  it('prefers the profile setting over DATABRICKS_CONFIG_PROFILE', () => {
    const result = resolve({ settings: { profile: 'work' }, env: { DATABRICKS_CONFIG_PROFILE: 'nope' }, files });
    expect(result.ok && result.config.profile).toBe('work');
  });

  it('prefers the configFile setting over DATABRICKS_CONFIG_FILE, and expands ~', () => {
    const result = resolve({
      settings: { configFile: '~/other.cfg', profile: 'work' },
      env: { DATABRICKS_CONFIG_FILE: '/nope.cfg' },
      files: { '/home/u/other.cfg': files[HOME_CFG] ?? '' },
    });
    expect(result.ok).toBe(true);
    expect(result.file).toEqual({
      path: '~/other.cfg',
      resolvedPath: '/home/u/other.cfg',
      state: 'read',
      profile: 'work',
      profiles: ['work'],
    });
  });

  it('reads the file when a profile is asked for, even with host and token set', () => {
    const result = resolve({ settings: { host: 'h', token: 't' }, env: { DATABRICKS_CONFIG_PROFILE: 'work' }, files });
    expect(result.ok && result.config.clusterId).toBe('file-cluster');
    expect(result.file.state).toBe('read');
  });

  it.each<[string, Case]>([
    ['a host', { env: { DATABRICKS_HOST: 'h' } }],
    ['a token', { settings: { token: 't' } }],
    ['a client id', { env: { DATABRICKS_CLIENT_ID: 'c' } }],
    ['an Azure resource id', { env: { DATABRICKS_AZURE_RESOURCE_ID: '/s/r/w' } }],
  ])('skips the file when no profile is asked for and %s is set', (_what, c) => {
    const result = resolve({ ...c, files: { [HOME_CFG]: '[DEFAULT]\ncluster_id = never\n' } });
    expect(result.file.state).toBe('skipped');
    expect(result.sources['cluster_id']).toBeUndefined();
  });

  it('does not skip the file for non-auth attributes', () => {
    const result = resolve({
      env: { DATABRICKS_CLUSTER_ID: 'env-cluster' },
      files: { [HOME_CFG]: '[DEFAULT]\nhost = h\ntoken = t\ncluster_id = file-cluster\n' },
    });
    expect(result.ok && result.config.clusterId).toBe('env-cluster');
    expect(result.file).toMatchObject({ state: 'read', profile: 'DEFAULT' });
  });

  it('does not inherit DEFAULT values into another profile', () => {
    const result = resolve({
      settings: { profile: 'bare' },
      files: { [HOME_CFG]: '[DEFAULT]\ncluster_id = c\ntoken = t\n[bare]\nhost = h\n' },
    });
    expect(result.sources['cluster_id']).toBeUndefined();
    expect(result.sources['token']).toBeUndefined();
  });

  it('treats an empty string as unset at every level', () => {
    const result = resolve({
      settings: { host: '', token: '' },
      env: { DATABRICKS_HOST: 'h', DATABRICKS_TOKEN: '' },
      files: { [HOME_CFG]: '[DEFAULT]\ntoken =\n' },
    });
    expect(result.ok).toBe(false);
    expect(result.sources['host']?.source).toBe('env');
  });

  it('keeps implicit DEFAULT keys written before any header', () => {
    expect(outcome({ files: { [HOME_CFG]: 'host = h\ntoken = t\n[other]\n' } })).toBe('pat https://h');
  });
});

describe('[__settings__] default_profile', () => {
  const cfg = (body: string): Case['files'] => ({ [HOME_CFG]: body });
  const withDefault = (name: string): string =>
    [
      '[__settings__]',
      `default_profile = ${name}`,
      '[DEFAULT]',
      'host = https://default.cloud.databricks.com',
      'token = d',
      '[my-workspace]',
      'host = https://my-workspace.cloud.databricks.com',
      'token = m',
      '[other]',
      'host = https://other.cloud.databricks.com',
      'token = o',
    ].join('\n');

  it('takes precedence over DEFAULT and is recorded as the profile', () => {
    const result = resolve({ files: cfg(withDefault('my-workspace')) });
    expect(result.ok && `${result.config.host} ${result.config.profile}`).toBe(
      'https://my-workspace.cloud.databricks.com my-workspace',
    );
    expect(result.sources['profile']).toEqual({
      value: 'my-workspace',
      source: 'config file ~/.databrickscfg [__settings__] default_profile',
    });
  });

  it('resolves without any DEFAULT section', () => {
    const body = '[__settings__]\ndefault_profile = my-workspace\n[my-workspace]\nhost = https://m\ntoken = m\n';
    expect(outcome({ files: cfg(body) })).toBe('pat https://m');
  });

  it('yields to an explicit profile', () => {
    expect(outcome({ settings: { profile: 'other' }, files: cfg(withDefault('my-workspace')) })).toBe(
      'pat https://other.cloud.databricks.com',
    );
  });

  it('falls back to DEFAULT when empty, without recording a profile', () => {
    const result = resolve({ files: cfg(withDefault('')) });
    expect(result.ok && result.config.host).toBe('https://default.cloud.databricks.com');
    expect(result.ok && result.config.profile).toBeUndefined();
    expect(result.sources['profile']).toEqual({ value: 'DEFAULT', source: 'default' });
  });

  it('names a missing profile: an error', () => {
    expect(outcome({ files: cfg(withDefault('deleted-profile')) })).toBe(
      'resolve: /home/u/.databrickscfg has no deleted-profile profile configured',
    );
  });

  it('may not name __settings__', () => {
    expect(outcome({ files: cfg(withDefault('__settings__')) })).toBe(
      'resolve: /home/u/.databrickscfg: __settings__ is a reserved section name and cannot be used as a profile',
    );
  });

  it('__settings__ is never a profile, even when asked for', () => {
    expect(outcome({ settings: { profile: '__settings__' }, files: cfg(withDefault('my-workspace')) })).toBe(
      'resolve: /home/u/.databrickscfg: __settings__ is a reserved section name and cannot be used as a profile. Config: profile=__settings__',
    );
  });
});

describe('profiles that were asked for', () => {
  it('an empty section counts as missing (Go SDK)', () => {
    expect(outcome({ env: { DATABRICKS_CONFIG_PROFILE: 'empty' }, files: TESTDATA })).toBe(
      'resolve: /home/u/.databrickscfg has no empty profile configured. Config: profile=empty. Env: DATABRICKS_CONFIG_PROFILE',
    );
  });

  it('a missing file is not an error even for an asked-for profile', () => {
    const result = resolve({ settings: { profile: 'work' } });
    expect(result.file.state).toBe('missing');
    expect(result.ok ? '' : result.error).toBe(`${CANNOT}. Config: profile=work`);
  });

  it('profile names are case-sensitive', () => {
    expect(outcome({ settings: { profile: 'default' }, files: TESTDATA })).toBe(
      'resolve: /home/u/.databrickscfg has no default profile configured. Config: profile=default',
    );
  });

  it('a file that does not parse is reported without quoting its content', () => {
    const result = resolve({ settings: { profile: 'p' }, files: { [HOME_CFG]: '[p]\ndapiPASTEDTOKEN\n' } });
    expect(result.ok ? '' : result.error).toBe(
      'resolve: cannot parse config file: key-value delimiter not found (/home/u/.databrickscfg, line 2). Config: profile=p',
    );
  });

  it('a file that cannot be read is an error', () => {
    const result = resolveConfig({
      settings: {},
      env: {},
      readFile: () => {
        throw new Error('EACCES: permission denied');
      },
      homeDir: '/home/u',
    });
    expect(result.ok ? '' : result.error).toBe('resolve: cannot parse config file: EACCES: permission denied');
  });
});

describe('host normalisation through resolution', () => {
  it('records ?o= as the workspace id with the host source', () => {
    const result = resolve({ env: { DATABRICKS_HOST: 'adb-1.2.azuredatabricks.net/?o=987', DATABRICKS_TOKEN: 't' } });
    expect(result.ok && result.config.workspaceId).toBe('987');
    expect(result.sources['workspace_id']).toEqual({ value: '987', source: 'env', env: 'DATABRICKS_HOST' });
    expect(result.sources['host']?.value).toBe('https://adb-1.2.azuredatabricks.net');
  });

  it('keeps an explicit workspace id over ?o=', () => {
    const result = resolve({ settings: { host: 'https://x/?o=1', token: 't', workspaceId: '2' } });
    expect(result.ok && result.config.workspaceId).toBe('2');
  });

  it('keeps http:// for a loopback emulator', () => {
    expect(outcome({ settings: { host: 'http://127.0.0.1:8123/', token: 't' } })).toBe('pat http://127.0.0.1:8123');
  });

  it('refuses to send a credential over plain http to another machine', () => {
    expect(outcome({ settings: { host: 'http://example.com', token: 't' } })).toBe(
      'refusing to send credentials over plain http:// to http://example.com: use https://, or http:// only for a loopback host. Config: host=http://example.com, token=***',
    );
  });

  it('reports an unusable host', () => {
    expect(outcome({ settings: { host: 'https://', token: 't' } })).toBe(
      'invalid host https://: no host configured. Config: host=https://, token=***',
    );
  });
});

describe('auth strategy', () => {
  it.each<[string, Case, unknown]>([
    ['pat', { settings: { host: 'h', token: 't' } }, { type: 'pat', token: '***' }],
    ['basic', { settings: { host: 'h', username: 'u', password: 'p' } }, { type: 'basic', username: 'u', password: '***' }],
    [
      'oauth-m2m with default scope',
      { env: { DATABRICKS_HOST: 'h', DATABRICKS_CLIENT_ID: 'c', DATABRICKS_CLIENT_SECRET: 's' } },
      { type: 'oauth-m2m', clientId: 'c', clientSecret: '***', scopes: ['all-apis'] },
    ],
    [
      'oauth-m2m with file scopes sorted and de-duplicated',
      {
        settings: { profile: 'sp' },
        files: { [HOME_CFG]: '[sp]\nhost = h\nclient_id = c\nclient_secret = s\nscopes = jobs, clusters jobs\n' },
      },
      { type: 'oauth-m2m', clientId: 'c', clientSecret: '***', scopes: ['clusters', 'jobs'] },
    ],
    [
      'databricks-cli for a profile with only a host',
      { settings: { profile: 'u2m' }, files: { [HOME_CFG]: '[u2m]\nhost = h\nauth_type = databricks-cli\n' } },
      { type: 'databricks-cli', profile: 'u2m' },
    ],
    [
      'databricks-cli with an explicit CLI path, when the CLI is usable',
      { env: { DATABRICKS_HOST: 'h', DATABRICKS_CLI_PATH: '/opt/databricks' }, tools: { databricksCli: true } },
      { type: 'databricks-cli', cliPath: '/opt/databricks' },
    ],
    [
      'azure-cli when asked for',
      { settings: { host: 'https://adb-1.2.azuredatabricks.net', authType: 'azure-cli', azureTenantId: 'tid' } },
      { type: 'azure-cli', tenantId: 'tid' },
    ],
  ])('%s', (_name, c, auth) => {
    const result = resolve(c);
    // JSON round trip: credentials serialize as *** (see the redaction tests).
    expect(result.ok && JSON.parse(JSON.stringify(result.config.auth))).toEqual(auth);
  });

  it('hands the credential itself only through reveal()', () => {
    const result = resolve({ settings: { host: 'h', token: 'dapi-real' } });
    expect(result.ok && result.config.auth.type === 'pat' && result.config.auth.token.reveal()).toBe('dapi-real');
  });

  it('tries azure-cli after databricks-cli for a bare Azure host', () => {
    const tools = { databricksCli: true, azureCli: true };
    const result = resolve({ settings: { host: 'https://adb-1.2.azuredatabricks.net' }, tools });
    expect(result.ok && [result.config.auth.type, ...result.config.fallbacks.map((f) => f.type)]).toEqual([
      'databricks-cli',
      'azure-cli',
    ]);
  });

  it('uses azure-cli alone when only az is usable', () => {
    const result = resolve({ settings: { host: 'https://adb-1.2.azuredatabricks.net' }, tools: { azureCli: true } });
    expect(result.ok && [result.config.auth.type, result.config.fallbacks.length]).toEqual(['azure-cli', 0]);
  });

  it('has no fallback for a bare non-Azure host', () => {
    const tools = { databricksCli: true, azureCli: true };
    const result = resolve({ settings: { host: 'https://x.cloud.databricks.com' }, tools });
    expect(result.ok && result.config.fallbacks).toEqual([]);
  });

  it('the first strategy that configures wins', () => {
    // host + username without password: basic cannot configure, the CLI can.
    const env = { DATABRICKS_HOST: 'h', DATABRICKS_USERNAME: 'u' };
    expect(outcome({ env, tools: { databricksCli: true } })).toBe('databricks-cli https://h');
    expect(outcome({ env })).toBe(`${CANNOT}. Config: host=https://h, username=u. Env: DATABRICKS_HOST, DATABRICKS_USERNAME`);
  });

  it('asks whether a CLI is installed only when a CLI strategy is in question', () => {
    const asked: string[] = [];
    const tools = {
      get databricksCli() {
        asked.push('databricks');
        return true;
      },
      get azureCli() {
        asked.push('az');
        return true;
      },
    };
    // A token configures at once: nothing probed (the probe looks along PATH on every resolve).
    expect(outcome({ settings: { host: 'https://adb-1.2.azuredatabricks.net', token: 'dapi1' }, tools })).toBe('pat https://adb-1.2.azuredatabricks.net');
    expect(asked).toEqual([]);
    // A bare host: both CLIs, the second as the fallback.
    expect(outcome({ settings: { host: 'https://adb-1.2.azuredatabricks.net' }, tools })).toBe('databricks-cli https://adb-1.2.azuredatabricks.net');
    expect(asked).toEqual(['databricks', 'az']);
  });

  it('an explicit databricks-cli needs no probe: the run reports a missing CLI', () => {
    expect(outcome({ settings: { host: 'h', authType: 'databricks-cli' } })).toBe('databricks-cli https://h');
  });

  it.each<[string, Case, string]>([
    [
      'unknown auth type',
      { settings: { host: 'h', authType: 'magic' } },
      `auth type "magic" not found, please check ${AUTH_DOCS_URL} for a list of supported auth types. Config: host=https://h`,
    ],
    [
      'known but unsupported auth type',
      { env: { DATABRICKS_HOST: 'h', DATABRICKS_AUTH_TYPE: 'metadata-service' } },
      'default auth: metadata-service: not supported by choppa-lsp (supported: pat, basic, oauth-m2m, databricks-cli, azure-cli). Config: host=https://h. Env: DATABRICKS_HOST',
    ],
    [
      'explicit pat without token',
      { settings: { host: 'h', authType: 'pat' } },
      'default auth: pat: token is required. Config: host=https://h',
    ],
    [
      'explicit basic without host or password',
      { settings: { authType: 'basic', username: 'u' } },
      'default auth: basic: host and password are required. Config: username=u',
    ],
    [
      'explicit azure-cli on a non-Azure host',
      { settings: { host: 'https://x.cloud.databricks.com', authType: 'azure-cli' } },
      'default auth: azure-cli: https://x.cloud.databricks.com is not an Azure Databricks workspace and azure_workspace_resource_id is not set. Config: host=https://x.cloud.databricks.com',
    ],
    [
      'three families, sorted',
      { env: { DATABRICKS_TOKEN: 't', DATABRICKS_CLIENT_SECRET: 's', ARM_CLIENT_ID: 'a' } },
      'validate: more than one authorization method configured: azure and oauth and pat. Config: token=***, azure_client_id=a, client_secret=***. Env: DATABRICKS_TOKEN, ARM_CLIENT_ID, DATABRICKS_CLIENT_SECRET',
    ],
    [
      'ARM_USE_MSI=false sets nothing',
      { env: { DATABRICKS_HOST: 'h', DATABRICKS_TOKEN: 't', ARM_USE_MSI: 'false' } },
      'pat https://h',
    ],
  ])('%s', (_name, c, expected) => {
    expect(outcome(c)).toBe(expected);
  });
});

describe('cluster: Choppa(cluster_id=...) > setting > env > profile', () => {
  const files = { [HOME_CFG]: '[DEFAULT]\nhost = h\ntoken = t\ncluster_id = profile-cluster\n' };

  it.each<[string, string | undefined, Case, unknown]>([
    ['the code literal wins', 'code-cluster', { settings: { clusterId: 's' }, files }, { clusterId: 'code-cluster', source: 'code' }],
    ['then the setting', undefined, { settings: { clusterId: 's' }, env: { DATABRICKS_CLUSTER_ID: 'e' }, files }, { clusterId: 's', source: 'setting' }],
    ['then the env', undefined, { env: { DATABRICKS_CLUSTER_ID: 'e' }, files }, { clusterId: 'e', source: 'env' }],
    [
      'then the profile',
      undefined,
      { files },
      { clusterId: 'profile-cluster', source: 'config file ~/.databrickscfg profile DEFAULT' },
    ],
  ])('%s', (_name, code, c, expected) => {
    expect(resolveCluster(code, resolve(c))).toEqual({ ok: true, kind: 'cluster', ...(expected as object) });
  });

  it('uses a serverless compute id when there is no cluster', () => {
    expect(resolveCluster(undefined, resolve({ env: { DATABRICKS_SERVERLESS_COMPUTE_ID: 'auto' } }))).toEqual({
      ok: true,
      kind: 'serverless',
      serverlessComputeId: 'auto',
      source: 'env',
    });
  });

  it.each<[string, Case, string]>([
    [
      'profile read',
      { files: { [HOME_CFG]: '[DEFAULT]\nhost = h\ntoken = t\n' } },
      'cluster_id in profile DEFAULT of ~/.databrickscfg',
    ],
    ['file missing', {}, '~/.databrickscfg (not found)'],
    [
      'file skipped',
      { env: { DATABRICKS_HOST: 'h', DATABRICKS_TOKEN: 't' } },
      '~/.databrickscfg (not read: host or credentials were already set and no profile was named)',
    ],
  ])('says where it looked (%s)', (_name, c, last) => {
    expect(resolveCluster(undefined, resolve(c))).toEqual({
      ok: false,
      error: `no cluster configured: looked at Choppa(cluster_id=...) in the code, the clusterId setting, DATABRICKS_CLUSTER_ID, ${last}`,
    });
  });
});

describe('redaction', () => {
  const SECRETS = ['dapi-SECRET-1', 'PW-SECRET-2', 'CS-SECRET-3', 'AZ-SECRET-4', 'GC-SECRET-5', 'http://md-SECRET-6'];
  const [token, password, clientSecret, azureSecret, googleCredentials, metadataUrl] = SECRETS;
  const scenarios: [string, Case][] = [
    ['pat from settings', { settings: { host: 'h', token } }],
    ['pat from env', { env: { DATABRICKS_HOST: 'h', DATABRICKS_TOKEN: token ?? '' } }],
    ['pat from file', { files: { [HOME_CFG]: `[DEFAULT]\nhost = h\ntoken = ${token}\n` } }],
    ['basic', { settings: { host: 'h', username: 'u', password } }],
    ['oauth-m2m', { env: { DATABRICKS_HOST: 'h', DATABRICKS_CLIENT_ID: 'c', DATABRICKS_CLIENT_SECRET: clientSecret ?? '' } }],
    [
      'conflict with every secret',
      {
        settings: { token, password, clientSecret, azureClientSecret: azureSecret },
        env: { GOOGLE_CREDENTIALS: googleCredentials ?? '', DATABRICKS_METADATA_SERVICE_URL: metadataUrl ?? '' },
      },
    ],
    ['no host', { settings: { token } }],
    ['explicit auth type missing', { settings: { authType: 'basic', password } }],
    ['plain http', { settings: { host: 'http://example.com', token } }],
    ['userinfo in host', { settings: { host: `https://u:${password}@x`, token, username: 'u' } }],
    ['unparsable file', { settings: { profile: 'p' }, files: { [HOME_CFG]: `[p]\n${token}\n` } }],
    ['unclosed quote in file', { settings: { profile: 'p' }, files: { [HOME_CFG]: `[p]\ntoken = """${token}\n` } }],
  ];

  it.each(scenarios)('%s: no secret in the result, its inspection or its description', (_name, c) => {
    const result = resolve(c);
    const shown = [JSON.stringify(result), inspect(result, { depth: null }), describeConfig(result), String(result.ok ? '' : result.error)].join('\n');
    for (const secret of SECRETS) expect(shown).not.toContain(secret);
  });

  it('shows *** in errors and sources', () => {
    const result = resolve({ settings: { token, password, username: 'u' } });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toContain('token=***, username=u, password=***');
    expect(result.sources['token']?.value).toBe('***');
  });
});
