// The one schema of choppa-lsp's settings: keys, types, defaults and descriptions. The VS Code
// manifest and the Neovim help mirror it (a repo test keeps them in step), and both the
// initializationOptions and workspace/configuration paths go through `parseSettings`.

/** Resolved, complete settings. */
export interface Settings {
  backend: 'auto' | 'local' | 'dask';
  host: string | null;
  profile: string | null;
  configFile: string | null;
  authType: string | null;
  clusterId: string | null;
  autoStartCluster: boolean;
  compute: 'cluster' | 'serverless';
  serverless: { environmentVersion: string };
  runs: { maxParallel: number };
  pythonPath: string;
  localRoot: string | null;
  passEnvironment: string | null;
  artifactDir: string | null;
  dask: { scheduler: string | null; pythonPath: string };
  inlayHints: { enable: boolean };
  codeLens: { enable: boolean };
  scopeLint: { enable: boolean };
  cache: 'off' | 'on';
  requirementsFile: string | null;
  diagnostics: { resultSeverity: 'hint' | 'information' };
}

/** Whatever the client sent; anything may be missing or of the wrong type. */
export type RawSettings = unknown;

interface SettingSpec {
  type: 'string' | 'boolean' | 'integer';
  default: string | boolean | number | null;
  enum?: string[];
  minimum?: number;
  description: string;
}

/** The settings schema; keys are relative to the `choppa` section. */
export const SETTINGS_SCHEMA: Record<string, SettingSpec> = {
  backend: {
    type: 'string',
    default: 'auto',
    enum: ['auto', 'local', 'dask'],
    description:
      'Where runs go: `auto` uses the Databricks workspace when one is configured (settings, `DATABRICKS_*` environment variables or `~/.databrickscfg`) and the embedded local Python backend otherwise; `local` always uses the local backend; `dask` runs on the Dask cluster of `choppa.dask.scheduler`.',
  },
  host: {
    type: 'string',
    default: null,
    description: 'Databricks workspace URL. Overrides `DATABRICKS_HOST` and the config profile.',
  },
  profile: {
    type: 'string',
    default: null,
    description: 'Profile of the Databricks config file to use. Overrides `DATABRICKS_CONFIG_PROFILE`.',
  },
  configFile: {
    type: 'string',
    default: null,
    description: 'Path of the Databricks config file. Overrides `DATABRICKS_CONFIG_FILE`; default `~/.databrickscfg`.',
  },
  authType: {
    type: 'string',
    default: null,
    description: 'Databricks authentication type (`pat`, `basic`, `oauth-m2m`, `databricks-cli`, `azure-cli`). Default: the first that the configuration allows.',
  },
  clusterId: {
    type: 'string',
    default: null,
    description: 'Cluster to run on when the code does not name one with `Choppa(cluster_id=...)`. Overrides `DATABRICKS_CLUSTER_ID` and the profile.',
  },
  autoStartCluster: {
    type: 'boolean',
    default: true,
    description: 'Start a terminated cluster when a run needs it.',
  },
  compute: {
    type: 'string',
    default: 'cluster',
    enum: ['cluster', 'serverless'],
    description: 'Where submitted jobs run on Databricks: the resolved cluster, or serverless compute (`environments`, no cluster).',
  },
  'serverless.environmentVersion': {
    type: 'string',
    default: '4',
    description:
      'The serverless environment version of submitted jobs on serverless compute (`environments[].spec.environment_version`): `4` is Python 3.12; `1` (Python 3.10) is deprecated.',
  },
  'runs.maxParallel': {
    type: 'integer',
    default: 4,
    minimum: 1,
    description: 'How many runs may proceed at once per workspace; more wait in a queue.',
  },
  pythonPath: {
    type: 'string',
    default: 'python3',
    description: 'The Python interpreter of the embedded local backend (the default `python3` runs `python` on Windows).',
  },
  artifactDir: {
    type: 'string',
    default: null,
    description: 'Where artifacts go when `Choppa(...)` names no `artifact_dir` (a `/Workspace/...`, `/Volumes/...` or `dbfs:/...` folder). Unset: your own folder on Databricks (`/Workspace/Users/<you>/.choppa/artifacts`), never a shared one.',
  },
  passEnvironment: {
    type: 'string',
    default: null,
    description: 'Comma-separated names of environment variables that user code may see although they hold credentials (`DATABRICKS_*`, `ARM_*`, `AZURE_*` and similar are removed from the environment of the local Python otherwise).',
  },
  localRoot: {
    type: 'string',
    default: null,
    description:
      'Folder standing in for `/Workspace`, `/Volumes` and `dbfs:/` on the local backend. Default: `.choppa/fs` in the workspace.',
  },
  cache: {
    type: 'string',
    default: 'off',
    enum: ['off', 'on'],
    description:
      '`on` serves a run from the last successful result of the same call when the code version (function source, shipped code, arguments) is unchanged, without running anything. Off by default, because a remote function usually reads data that changes under it; `# choppa: cache` on a decorator line turns it on for that function alone, and `fresh: true` (or the code action "Run … again (ignore cache)") runs anyway.',
  },
  'dask.scheduler': {
    type: 'string',
    default: null,
    description:
      'Address of the Dask scheduler for `choppa.backend: "dask"` (`tcp://host:8786`). Default: the `DASK_SCHEDULER_ADDRESS` environment variable.',
  },
  'dask.pythonPath': {
    type: 'string',
    default: 'python3',
    description:
      'The Python that holds the Dask client for `choppa.backend: "dask"`: it must import `distributed`, at the version (and Python version) of the cluster.',
  },
  'inlayHints.enable': {
    type: 'boolean',
    default: true,
    description: 'Show the last result of a function as an inlay hint at its call sites.',
  },
  'codeLens.enable': {
    type: 'boolean',
    default: true,
    description: 'Show Run/Artifact code lenses above decorated functions.',
  },
  'diagnostics.resultSeverity': {
    type: 'string',
    default: 'hint',
    enum: ['hint', 'information'],
    description:
      'Severity of the diagnostic that shows a run\'s result at its function: `hint` keeps results out of the problem lists (VS Code\'s Problems panel, Neovim\'s and Helix\'s counts); `information` counts them. Errors a run raised are always errors.',
  },
  'scopeLint.enable': {
    type: 'boolean',
    default: true,
    description: 'Warn about names a remote function uses that do not exist on the cluster.',
  },
  requirementsFile: {
    type: 'string',
    default: null,
    description:
      'Requirements file (relative to the workspace folder) whose lines are installed with pip for runs that import third-party packages, once per version of its lines. Default: `requirements.txt`, else `[project] dependencies` of `pyproject.toml`.',
  },
};

export const DEFAULT_SETTINGS: Settings = parseSettings(undefined);

function lookup(raw: unknown, dotted: string): unknown {
  let cursor: unknown = raw;
  for (const part of dotted.split('.')) {
    if (cursor === null || typeof cursor !== 'object') return undefined;
    cursor = (cursor as Record<string, unknown>)[part];
  }
  return cursor;
}

/** Reads one key from either the nested (`{inlayHints: {enable}}`) or the flat dotted form. */
function read(raw: unknown, key: string): unknown {
  const nested = lookup(raw, key);
  if (nested !== undefined) return nested;
  if (raw !== null && typeof raw === 'object') return (raw as Record<string, unknown>)[key];
  return undefined;
}

/** Whether a value counts as not set: absent, null, or an empty string (a cleared field). */
function unset(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function valid(spec: SettingSpec, value: unknown): boolean {
  if (spec.type === 'boolean') return typeof value === 'boolean';
  if (spec.type === 'integer') return typeof value === 'number' && Number.isInteger(value) && value >= (spec.minimum ?? -Infinity);
  return typeof value === 'string' && (spec.enum === undefined || spec.enum.includes(value));
}

function pick(raw: unknown, key: string): string | boolean | number | null {
  const spec = SETTINGS_SCHEMA[key]!;
  const value = read(raw, key);
  return !unset(value) && valid(spec, value) ? (value as string | boolean | number) : spec.default;
}

function sectionOf(raw: RawSettings): unknown {
  return raw !== null && typeof raw === 'object' && 'choppa' in raw ? (raw as { choppa: unknown }).choppa : raw;
}

function expected(spec: SettingSpec): string {
  if (spec.enum) return `one of ${spec.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  if (spec.type === 'integer') return spec.minimum === undefined ? 'an integer' : `an integer of at least ${spec.minimum}`;
  return `a ${spec.type}`;
}

/**
 * The values a client sent that `parseSettings` could not take, one sentence each, saying what is
 * used instead (`choppa.backend: "Local" is not one of "auto", "local", "dask"; using "auto"`).
 */
export function settingsProblems(raw: RawSettings): string[] {
  const section = sectionOf(raw);
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(SETTINGS_SCHEMA)) {
    const value = read(section, key);
    if (unset(value) || valid(spec, value)) continue;
    const shown = JSON.stringify(value)?.slice(0, 80) ?? String(value);
    problems.push(`choppa.${key}: ${shown} is not ${expected(spec)}; using ${JSON.stringify(spec.default)}`);
  }
  return problems;
}

/** The dotted keys (`runs.maxParallel`) whose resolved values differ between two settings. */
export function settingsDifferences(a: Settings, b: Settings): string[] {
  const flat = (value: unknown, prefix: string, into: Map<string, string>): Map<string, string> => {
    if (value !== null && typeof value === 'object') for (const [key, inner] of Object.entries(value)) flat(inner, prefix ? `${prefix}.${key}` : key, into);
    else into.set(prefix, JSON.stringify(value));
    return into;
  };
  const left = flat(a, '', new Map());
  const right = flat(b, '', new Map());
  return [...left.keys()].filter((key) => left.get(key) !== right.get(key));
}

/**
 * Turns what a client sent into complete settings. Accepts the `choppa` section itself or an
 * object holding it under `choppa`; unknown keys and wrong types fall back to defaults (and
 * `settingsProblems` says which).
 */
export function parseSettings(raw: RawSettings): Settings {
  const section = sectionOf(raw);
  return {
    backend: pick(section, 'backend') as Settings['backend'],
    host: pick(section, 'host') as string | null,
    profile: pick(section, 'profile') as string | null,
    configFile: pick(section, 'configFile') as string | null,
    authType: pick(section, 'authType') as string | null,
    clusterId: pick(section, 'clusterId') as string | null,
    autoStartCluster: pick(section, 'autoStartCluster') as boolean,
    compute: pick(section, 'compute') as Settings['compute'],
    serverless: { environmentVersion: pick(section, 'serverless.environmentVersion') as string },
    runs: { maxParallel: pick(section, 'runs.maxParallel') as number },
    pythonPath: pick(section, 'pythonPath') as string,
    localRoot: pick(section, 'localRoot') as string | null,
    passEnvironment: pick(section, 'passEnvironment') as string | null,
    artifactDir: pick(section, 'artifactDir') as string | null,
    dask: { scheduler: pick(section, 'dask.scheduler') as string | null, pythonPath: pick(section, 'dask.pythonPath') as string },
    inlayHints: { enable: pick(section, 'inlayHints.enable') as boolean },
    codeLens: { enable: pick(section, 'codeLens.enable') as boolean },
    scopeLint: { enable: pick(section, 'scopeLint.enable') as boolean },
    cache: pick(section, 'cache') as Settings['cache'],
    requirementsFile: pick(section, 'requirementsFile') as string | null,
    diagnostics: { resultSeverity: pick(section, 'diagnostics.resultSeverity') as Settings['diagnostics']['resultSeverity'] },
  };
}
