// Parses the CLI's argv into one options object, or into the usage text to print.
import { VERSION } from '../version.js';

export const USAGE = `Usage: choppa-lsp <command> [options]

  choppa-lsp --stdio                      serve LSP over stdio (what editors start)
  choppa-lsp list FILE [--json]           Choppa instances, decorated functions, scope problems
  choppa-lsp run FILE:FUNCTION [--args "1, b=2"] [--cache] [--fresh] [--json]
                                          run a function remotely and print its result
  choppa-lsp artifact FILE:FUNCTION [--args "..."] [--json]
                                          run a function and store its result as an artifact
  choppa-lsp bundle FILE:FUNCTION [--json] the project modules that ship with a function's runs
  choppa-lsp deref REF_PATH|FILE:FUNCTION [--json]
                                          download an artifact into .choppa/artifacts/, verified
  choppa-lsp submit FILE:FUNCTION [--args "..."] [--serverless] [--json]
                                          submit a function as a job; prints its handle at once
  choppa-lsp runs [--json]                the submitted runs of this project, with state and age
  choppa-lsp wait RUN_ID [--json]         follow a submitted run until it ends (exit 0 when it
                                          succeeded, 1 when it failed, 130 when cancelled)
  choppa-lsp cancel RUN_ID                cancel a submitted run
  choppa-lsp config [--json]              the Databricks configuration resolved, and where each
                                          value came from (exit 1 when it does not resolve)
  choppa-lsp clusters [--json]            the workspace's clusters: state, runtime, Python, size
  choppa-lsp cluster start ID [--json]    start a cluster and wait until it is RUNNING
  choppa-lsp context restart [ID]         destroy the warm execution context this project holds
                                          on a cluster (default: the configured one); the next run
                                          gets a fresh interpreter
  choppa-lsp jobs [--json]                the one-time job runs this project submitted
  choppa-lsp daemon status|stop           the warm CLI daemons that serve \`run\` and \`artifact\`
                                          (one per folder and environment; they exit after 10
                                          idle minutes, $CHOPPA_DAEMON_IDLE_MS)

Options:
  --args SOURCE   Python argument source for the function ("1, b=2"); names bound in the file
                  to another remote call's result are passed along without downloading
  --cache         serve the last result of the same call when its code version is unchanged
                  (as the setting choppa.cache "on"; a "# choppa: cache" comment on a decorator does it
                  for one function)
  --fresh         run even when the cache holds a current result
  --root DIR      the project folder holding .choppa/ (default: nearest with .choppa or .git,
                  else with pyproject.toml, setup.cfg or setup.py)
  --json          print the result as JSON
  --host URL, --profile NAME, --config-file PATH, --auth-type TYPE, --cluster-id ID
                  Databricks settings; they win over DATABRICKS_* variables and the config file
                  (a Choppa(cluster_id=...) in the code wins over --cluster-id)
  --local         run on the embedded local backend even when a workspace is configured
  --backend auto|local|dask
                  where runs go (default auto: Databricks when configured, else local)
  --scheduler ADDRESS
                  the Dask scheduler for --backend dask (default: $DASK_SCHEDULER_ADDRESS)
  --dask-python PATH
                  the Python holding the Dask client (default python3, or $CHOPPA_DASK_PYTHON)
  -h, --help      this text
  -v, --version   the version

With no Databricks workspace configured (no host from the options, DATABRICKS_HOST or
~/.databrickscfg), runs use the embedded local Python backend (python3, or $CHOPPA_PYTHON). Exit code: 0 on success, 1 when the run raised or failed,
2 on a usage error, 130 when Ctrl-C cancelled the run.

\`run\` and \`artifact\` go through a daemon that keeps the project warm between commands (the
parser, the project's index, the warm interpreter or execution context); it is started on first
use and runs each command in this folder and environment. CHOPPA_DAEMON=0 runs them in-process.
`;

export interface CliOptions {
  command: 'list' | 'run' | 'artifact' | 'deref' | 'config' | 'submit' | 'runs' | 'wait' | 'cancel' | 'bundle' | 'daemon' | ClusterCliCommand;
  target: string;
  args?: string;
  root?: string;
  json: boolean;
  cache: boolean;
  fresh: boolean;
  local: boolean;
  serverless: boolean;
  backend?: 'auto' | 'local' | 'dask';
  /** Dask settings given as options. */
  dask: { scheduler?: string; pythonPath?: string };
  /** Databricks settings given as options, keyed like the settings schema. */
  databricks: { host?: string; profile?: string; configFile?: string; authType?: string; clusterId?: string };
}

/** The cluster commands (issue 11); `cluster start` and `context restart` are two words. */
export type ClusterCliCommand = 'clusters' | 'cluster-start' | 'context-restart' | 'jobs';
const CLUSTER_COMMANDS: Record<string, ClusterCliCommand> = { clusters: 'clusters', 'cluster start': 'cluster-start', 'context restart': 'context-restart', jobs: 'jobs' };
export const isClusterCommand = (command: string): command is ClusterCliCommand => Object.values(CLUSTER_COMMANDS).includes(command as ClusterCliCommand);

const COMMANDS = new Set(['list', 'run', 'artifact', 'deref', 'config', 'submit', 'runs', 'wait', 'cancel', 'bundle', 'daemon', ...Object.values(CLUSTER_COMMANDS)]);

const DATABRICKS_OPTIONS: Record<string, keyof CliOptions['databricks']> = {
  '--host': 'host',
  '--profile': 'profile',
  '--config-file': 'configFile',
  '--auth-type': 'authType',
  '--cluster-id': 'clusterId',
};

export function parseCliArguments(argv: string[]): CliOptions | { usage: string; exitCode: number; version?: true } {
  let [command, ...rest] = argv;
  if ((command === 'cluster' || command === 'context') && rest[0] !== undefined && CLUSTER_COMMANDS[`${command} ${rest[0]}`]) {
    command = CLUSTER_COMMANDS[`${command} ${rest[0]}`];
    rest = rest.slice(1);
  } else if (command === 'cluster' || command === 'context') {
    return { usage: `choppa-lsp: ${command} needs ${command === 'cluster' ? '"start ID"' : '"restart [ID]"'}\n\n${USAGE}`, exitCode: 2 };
  }
  // The caller adds which parser runs: that is known only once the engine is loaded.
  if (command === '--version' || command === '-v' || command === 'version') return { usage: `choppa-lsp ${VERSION}\n`, exitCode: 0, version: true };
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    return { usage: USAGE, exitCode: command === undefined ? 2 : 0 };
  }
  if (!COMMANDS.has(command)) return { usage: `choppa-lsp: unknown command ${command}\n\n${USAGE}`, exitCode: 2 };
  const options: Partial<CliOptions> & Pick<CliOptions, 'json' | 'cache' | 'fresh' | 'local' | 'serverless' | 'databricks' | 'dask'> = {
    command: command as CliOptions['command'],
    json: false,
    cache: false,
    fresh: false,
    local: false,
    serverless: false,
    databricks: {},
    dask: {},
  };
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const setting = DATABRICKS_OPTIONS[flag];
    if (setting !== undefined) {
      const value = inline ?? rest[i + 1];
      if (value === undefined) return { usage: `choppa-lsp: ${flag} needs a value\n\n${USAGE}`, exitCode: 2 };
      options.databricks[setting] = value;
      if (inline === undefined) i += 1;
      continue;
    }
    if (flag === '--backend' || flag === '--scheduler' || flag === '--dask-python') {
      const value = inline ?? rest[i + 1];
      if (value === undefined) return { usage: `choppa-lsp: ${flag} needs a value\n\n${USAGE}`, exitCode: 2 };
      if (inline === undefined) i += 1;
      if (flag === '--backend') {
        if (value !== 'auto' && value !== 'local' && value !== 'dask') {
          return { usage: `choppa-lsp: --backend is auto, local or dask, not ${value}\n\n${USAGE}`, exitCode: 2 };
        }
        options.backend = value;
      } else if (flag === '--scheduler') options.dask.scheduler = value;
      else options.dask.pythonPath = value;
      continue;
    }
    if (arg === '--json') options.json = true;
    else if (arg === '--cache') options.cache = true;
    else if (arg === '--fresh') options.fresh = true;
    else if (arg === '--local') options.local = true;
    else if (arg === '--serverless') options.serverless = true;
    else if (arg === '-h' || arg === '--help') return { usage: USAGE, exitCode: 0 };
    else if (arg === '--args' || arg === '--root') {
      const value = rest[i + 1];
      if (value === undefined) return { usage: `choppa-lsp: ${arg} needs a value\n\n${USAGE}`, exitCode: 2 };
      if (arg === '--args') options.args = value;
      else options.root = value;
      i += 1;
    } else if (arg.startsWith('--args=')) options.args = arg.slice('--args='.length);
    else if (arg.startsWith('--root=')) options.root = arg.slice('--root='.length);
    else if (arg.startsWith('-')) return { usage: `choppa-lsp: unknown option ${arg}\n\n${USAGE}`, exitCode: 2 };
    else if (options.target === undefined) options.target = arg;
    else return { usage: `choppa-lsp: unexpected argument ${arg}\n\n${USAGE}`, exitCode: 2 };
  }
  if (options.target === undefined && (command === 'config' || command === 'runs' || command === 'clusters' || command === 'jobs' || command === 'context-restart')) options.target = '';
  if (options.target === undefined) return { usage: `choppa-lsp ${command}: missing target\n\n${USAGE}`, exitCode: 2 };
  return options as CliOptions;
}
