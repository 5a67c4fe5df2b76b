// The terminal face of choppa-lsp: `list`, `run`, `artifact` and `deref` drive the same
// analysis and engine as the language server. Progress goes to stderr, results to stdout
// (JSON with `--json`), and the exit code is non-zero when the remote side raised.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { FileAnalysis, Param } from '../analysis/model.js';
import { RUNNER_PATH } from '../backends/local/local-backend.js';
import { describeConfig } from '../config/describe-config.js';
import type { WorkspaceIndex } from '../workspace-index/workspace-index.js';
import { runTarget as findRunTarget, type RunTarget } from '../workspace-index/run-target.js';
import { unsupportedFunction } from '../analysis/unsupported-functions.js';
import { instanceNamed } from '../analysis/instances.js';
import { buildBundle } from '../bundle/code-bundle.js';
import { describeBundle } from '../bundle/describe-bundle.js';
import { BackendSelection, resolveWorkspaceConfig } from '../engine/backend-selection.js';
import { describeRef, errorText, formatDuration, summaryLine } from '../engine/format.js';
import type { RunCommandResult } from '../engine/run-record.js';
import { DEFAULT_ARTIFACT_DIR, type RunRequest, type Workspace } from '../engine/workspace.js';
import { describeParserEngine } from '../syntax/parser-engine.js';
import { parseCliArguments, type CliOptions } from './cli-arguments.js';
import { writeOut } from './standard-output.js';
import { CliHost, cliSettings, type Io } from './cli-host.js';
import { runClusterCommand } from './cluster-commands.js';
import { indexRoot, stateRoot } from '../workspace-index/project-roots.js';

const processIo: Io = {
  out: (text) => writeOut(1, text),
  err: (text) => writeOut(2, text),
};


/**
 * The project's workspace for a command that runs something, saying when that is the embedded
 * local backend. The host keeps it: a one-shot CLI lets it go when its command ends.
 */
function workspaceFor(host: CliHost, root: string, options: CliOptions, io: Io, index?: WorkspaceIndex): Workspace {
  const workspace = host.workspace(root, options, index);
  if (workspace.backends.mode === 'local' && !options.json) {
    io.err('… no Databricks workspace is configured: running on the embedded local Python backend\n');
  }
  return workspace;
}

function showConfig(options: CliOptions, io: Io): number {
  const settings = cliSettings(options);
  if (settings.backend === 'dask') {
    const selection = new BackendSelection({ settings, env: process.env, defaultLocalRoot: '', runnerPath: RUNNER_PATH, logger: () => undefined });
    const problem = selection.problemFor(undefined);
    if (options.json) io.out(`${JSON.stringify({ ok: problem === undefined, backend: 'dask', description: selection.describe() }, null, 2)}\n`);
    else (problem === undefined ? io.out : io.err)(`${selection.describe()}\n`);
    return problem === undefined ? 0 : 1;
  }
  const result = resolveWorkspaceConfig(settings, process.env);
  if (options.json) {
    const summary = result.ok
      ? { ok: true, host: result.config.host, authType: result.config.auth.type, profile: result.config.profile, clusterId: result.config.clusterId, sources: result.sources, file: result.file }
      : { ok: false, error: result.error, sources: result.sources, file: result.file };
    io.out(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (result.ok) {
    io.out(`${describeConfig(result)}\n`);
  } else {
    io.err(`${describeConfig(result)}\n`);
  }
  return result.ok ? 0 : 1;
}

function loadFile(host: CliHost, file: string, root?: string): { path: string; text: string; analysis: FileAnalysis; index: WorkspaceIndex } {
  const path = resolve(file);
  const text = readFileSync(path, 'utf8');
  // The same workspace index as the server: instances and functions imported from other modules.
  const index = host.index(root ?? indexRoot(path));
  return { path, text, analysis: index.analysisOf(path) ?? host.documents().analyzeText(text).analysis, index };
}

/**
 * Parameters as Python writes them: `*rest`, `**extra`, and the bare `*` before keyword-only
 * parameters that no `*rest` precedes (the analysis keeps their kind, not the separator).
 */
function parameterList(params: readonly Param[]): string {
  const shown: string[] = [];
  let starred = false;
  for (const param of params) {
    if (param.kind === 'kwargs') {
      shown.push(`**${param.name}`);
      continue;
    }
    if (param.kind === 'varargs') {
      shown.push(`*${param.name}`);
      starred = true;
      continue;
    }
    if (param.kind === 'keyword' && !starred) {
      shown.push('*');
      starred = true;
    }
    shown.push(param.name);
  }
  return shown.join(', ');
}

function listFile(host: CliHost, options: CliOptions, io: Io): number {
  const { path, analysis } = loadFile(host, options.target, options.root);
  if (options.json) {
    io.out(`${JSON.stringify({ file: path, ...analysis }, null, 2)}\n`);
    return 0;
  }
  io.out(`${relative(process.cwd(), path) || path}\n`);
  for (const instance of analysis.instances) {
    const fields = [`cluster_id=${String(instance.clusterId ?? '-')}`, `artifact_dir=${String(instance.artifactDir ?? '-')}`, `result_size_max=${String(instance.resultSizeMax ?? '-')}`];
    io.out(`  instance  ${instance.name}  line ${instance.callSpan.start.line + 1}  ${fields.join('  ')}\n`);
  }
  for (const instance of analysis.importedInstances) {
    const fields = [`cluster_id=${String(instance.clusterId ?? '-')}`, `artifact_dir=${String(instance.artifactDir ?? '-')}`, `result_size_max=${String(instance.resultSizeMax ?? '-')}`];
    const where = `${relative(process.cwd(), instance.path) || instance.path}:${instance.line + 1}`;
    io.out(`  instance  ${instance.name}  from ${instance.module} (${where})  ${fields.join('  ')}\n`);
  }
  for (const fn of analysis.functions) {
    io.out(`  ${fn.kind.padEnd(8)}  ${fn.name}(${parameterList(fn.params)})  line ${fn.defLine + 1}  @${fn.instance}\n`);
  }
  for (const problem of analysis.problems) {
    io.out(`  ${problem.severity.padEnd(8)}  ${problem.span.start.line + 1}:${problem.span.start.character + 1}  ${problem.message}\n`);
  }
  if (analysis.functions.length === 0) io.out('  no Choppa-decorated functions\n');
  return 0;
}

function showBundle(host: CliHost, options: CliOptions, io: Io): number {
  const [file, name] = splitTarget(options.target);
  if (!name) {
    io.err(`choppa-lsp bundle: expected FILE:FUNCTION, got ${options.target}\n`);
    return 2;
  }
  const { path, analysis, index } = loadFile(host, file, options.root);
  const target = findRunTarget(analysis, name, path);
  if (!target) {
    io.err(`${unsupportedFunction(analysis, name)?.message ?? `There is no function \`${name}\` decorated by a Choppa instance in ${relative(process.cwd(), path) || path}.`}\n`);
    return 1;
  }
  const bundle = buildBundle(index, target.definedIn, name, target.instance?.artifactDir ?? DEFAULT_ARTIFACT_DIR);
  if (options.json) {
    const shape =
      bundle === undefined
        ? { function: name, modules: [] }
        : 'failure' in bundle
          ? { function: name, error: bundle.failure }
          : { function: name, ...bundle.ref, size: bundle.zip.length, files: bundle.files.map(({ module, name: entry, source, size }) => ({ module, name: entry, source, size })), external: bundle.external };
    io.out(`${JSON.stringify(shape, null, 2)}\n`);
  } else {
    io.out(`${describeBundle(name, bundle, process.cwd()).join('\n').replace(/`/g, '')}\n`);
    if (bundle && !('failure' in bundle)) io.out(`\nzip: ${bundle.ref.path}\n`);
  }
  return bundle && 'failure' in bundle ? 1 : 0;
}

function printRunResult(result: RunCommandResult, path: string, io: Io, json: boolean): void {
  if (json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (result.stdout) io.err(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
  if (result.stderr) io.err(result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
  if (result.status === 'error' && result.error) {
    const where = result.error.line === undefined ? '' : ` (${relative(process.cwd(), path)}:${result.error.line + 1})`;
    io.out(`error: ${errorText(result.error)}${where}\n`);
    for (const frame of result.error.frames ?? []) io.out(`  line ${frame.documentLine + 1}, in ${frame.function}: ${frame.text}\n`);
    return;
  }
  if (result.status === 'cancelled') {
    io.out(`${result.function}: cancelled\n`);
    return;
  }
  io.out(`${summaryLine(result)}\n`);
  if (result.ref) io.out(`  ${describeRef(result.ref)} at ${result.ref.path}\n  sha256 ${result.ref.sha256}\n`);
}

async function runTarget(host: CliHost, options: CliOptions, io: Io): Promise<number> {
  const [file, name] = splitTarget(options.target);
  if (!name) {
    io.err(`choppa-lsp ${options.command}: expected FILE:FUNCTION, got ${options.target}\n`);
    return 2;
  }
  const { path, analysis, index } = loadFile(host, file, options.root);
  const refused = refusal(analysis, name);
  if (refused) {
    printRunResult(refused, path, io, options.json);
    return 1;
  }
  const workspace = workspaceFor(host, options.root ?? stateRoot(path), options, io, index);
  warnUnusedClusterFlag(options, workspace, analysis, name, path, io);
  const interrupt = ctrlC(io);
  try {
    const args = cliArguments(host, options, io);
    if (args === 'invalid') return 2;
    let streamed = false;
    let endsLine = true;
    let lastProgress: string | undefined;
    const result = await workspace.run({
      filePath: path,
      analysis,
      functionName: name,
      mode: options.command === 'artifact' ? 'artifact' : 'remote',
      cache: options.cache,
      fresh: options.fresh,
      signal: interrupt.signal,
      // The run's output streams to stderr as it arrives, whole, as it would running locally;
      // progress lines that only echo it are left out.
      // A step the backend names again in its own words ("Running add on …", then "running add
      // on …" once it has its context) is printed once.
      onProgress: (report) => {
        if (report.output || report.message.toLowerCase() === lastProgress) return;
        lastProgress = report.message.toLowerCase();
        io.err(`… ${report.message}\n`);
      },
      onOutput: (_stream, text) => {
        streamed = true;
        endsLine = text.endsWith('\n');
        io.err(text);
      },
      ...(args ? { args } : {}),
    });
    if (streamed && !endsLine) io.err('\n');
    printRunResult(streamed && !options.json ? { ...result, stdout: '', stderr: '' } : result, path, io, options.json);
    if (result.status === 'ok') return 0;
    // A run the user's Ctrl-C cancelled exits as an interrupted command does (128 + SIGINT), as
    // `wait` does for a cancelled job, so a shell loop or script stops rather than reads a failure.
    return result.status === 'cancelled' && interrupt.signal.aborted ? 130 : 1;
  } finally {
    interrupt.release();
  }
}

/**
 * Ctrl-C as an abort signal: in this process, or in the terminal that asked the daemon. A second
 * Ctrl-C in this process, once the first has been taken, ends it as the shell would.
 */
function ctrlC(io: Io): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  if (io.signal) io.signal.addEventListener('abort', onSignal, { once: true });
  else process.once('SIGINT', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      io.signal?.removeEventListener('abort', onSignal);
      process.removeListener('SIGINT', onSignal);
    },
  };
}

/**
 * A run of a decorated function that cannot run remotely (an `async def`, a method, a nested
 * function), refused before anything starts with the analysis's reason and where it is.
 */
function refusal(analysis: FileAnalysis, name: string): RunCommandResult | undefined {
  const problem = unsupportedFunction(analysis, name);
  if (!problem) return undefined;
  return { status: 'error', function: name, error: { type: 'ChoppaError', message: problem.message, line: problem.span.start.line }, durationMs: 0 };
}

/**
 * The code's `Choppa(cluster_id=...)` wins over every other place a cluster is named, the
 * `--cluster-id` flag included (README, `resolveCluster` in config/databricks-config.ts): a flag
 * naming another cluster is said to go unused, with where the code names its cluster, rather than
 * the run going elsewhere than the terminal asked without a word.
 */
function warnUnusedClusterFlag(options: CliOptions, workspace: Workspace, analysis: FileAnalysis, name: string, path: string, io: Io): void {
  const flag = options.databricks.clusterId;
  if (!flag || workspace.backends.mode !== 'databricks') return;
  const target = findRunTarget(analysis, name, path);
  const code = target?.instance?.clusterId;
  if (!target || typeof code !== 'string' || code === '' || code === flag) return;
  io.err(`warning: --cluster-id ${flag} is not used: Choppa(cluster_id="${code}") at ${instancePlace(analysis, target, path)} names the cluster, and the code's cluster_id wins over the flag\n`);
}

/** Where the `Choppa(...)` of a run target is: `file:line`, or the defining file of an imported function. */
function instancePlace(analysis: FileAnalysis, target: RunTarget, path: string): string {
  const shown = (file: string): string => relative(process.cwd(), file) || file;
  if (target.definedIn !== path) return shown(target.definedIn);
  const local = instanceNamed(analysis.instances, target.fn.instance, target.fn.decoratorSpan.start);
  if (local) return `${shown(path)}:${local.callSpan.start.line + 1}`;
  const imported = analysis.importedInstances.find((instance) => instance.name === target.fn.instance);
  return imported ? `${shown(imported.path)}:${imported.line + 1}` : shown(path);
}

/** `--args` split like a call site's arguments; `invalid` (after saying why) when it does not parse. */
function cliArguments(host: CliHost, options: CliOptions, io: Io): RunRequest['args'] | 'invalid' | undefined {
  if (options.args === undefined) return undefined;
  const parsed = host.documents().parseArguments(options.args);
  if (parsed) return { source: options.args, parsed };
  io.err(`choppa-lsp: --args ${JSON.stringify(options.args)} is not a valid Python argument list\n`);
  return 'invalid';
}

function splitTarget(target: string): [string, string | undefined] {
  const index = target.lastIndexOf(':');
  if (index <= 0) return [target, undefined];
  return [target.slice(0, index), target.slice(index + 1) || undefined];
}

async function derefTarget(host: CliHost, options: CliOptions, io: Io): Promise<number> {
  const [file, name] = splitTarget(options.target);
  const isFunction = name !== undefined && file.endsWith('.py') && existsSync(file);
  const root = options.root ?? (isFunction ? stateRoot(resolve(file)) : process.cwd());
  const workspace = workspaceFor(host, root, options, io);
  let ref;
  let madeOn: string | undefined;
  let made: { call: string; runId: string; finishedAt: string; stale?: string } | undefined;
  if (isFunction) {
    const { path, analysis } = loadFile(host, file);
    const found = workspace.newestArtifact(path, analysis, name);
    if (!found) {
      io.err(`choppa-lsp deref: ${name} has no artifact yet; run it with \`choppa-lsp artifact ${options.target}\` first\n`);
      return 1;
    }
    ref = found.record.ref;
    madeOn = found.record.backend;
    made = { call: `${name}(${found.record.args})`, runId: found.record.runId, finishedAt: found.record.finishedAt, ...(found.stale ? { stale: found.stale } : {}) };
    // Which call's artifact this is, and whether the code still makes it, before any byte moves.
    io.err(`… the artifact of ${made.call}, run ${made.runId} on ${found.record.backend} at ${made.finishedAt}\n`);
    const again = found.record.args.trim() === '' ? '' : ` --args '${found.record.args.replace(/'/g, `'\\''`)}'`;
    if (made.stale) io.err(`warning: this artifact is stale (${made.stale}); \`choppa-lsp artifact ${options.target}${again}\` makes a current one\n`);
  }
  const interrupt = ctrlC(io);
  let result;
  try {
    result = await workspace.dereference(ref ?? options.target, {
      ...(madeOn !== undefined ? { madeOn } : {}),
      signal: interrupt.signal,
      onProgress: (report) => {
        if (!interrupt.signal.aborted) io.err(`… ${report.message}\n`);
      },
    });
  } finally {
    interrupt.release();
  }
  if ('failure' in result) {
    // A cancelled transfer removes its partial file, and the artifact is renamed into place only
    // once whole and verified, so nothing of this download is left in `.choppa/artifacts/`.
    if (interrupt.signal.aborted) {
      io.err(`choppa-lsp deref: the download of ${ref?.path ?? options.target} was cancelled; nothing was kept\n`);
      return 130;
    }
    io.err(`choppa-lsp deref: ${result.failure}\n`);
    return 1;
  }
  const { ref: _ref, ...summary } = result;
  if (options.json) io.out(`${JSON.stringify({ ...summary, ...(made ?? {}) }, null, 2)}\n`);
  else io.out(`${result.localPath}\npreview: ${result.previewPath}\n${result.size} bytes, sha256 ${result.sha256} (verified)${made?.stale ? `, stale: ${made.stale}` : ''}\n`);
  return 0;
}

async function submitTarget(host: CliHost, options: CliOptions, io: Io): Promise<number> {
  const [file, name] = splitTarget(options.target);
  if (!name) {
    io.err(`choppa-lsp submit: expected FILE:FUNCTION, got ${options.target}\n`);
    return 2;
  }
  const { path, analysis, index } = loadFile(host, file, options.root);
  const refused = refusal(analysis, name);
  if (refused) {
    printRunResult(refused, path, io, options.json);
    return 1;
  }
  const workspace = workspaceFor(host, options.root ?? stateRoot(path), options, io, index);
  warnUnusedClusterFlag(options, workspace, analysis, name, path, io);
  const args = cliArguments(host, options, io);
  if (args === 'invalid') return 2;
  const result = await workspace.submit({ filePath: path, analysis, functionName: name, ...(args ? { args } : {}) }, options.serverless ? 'serverless' : 'cluster');
  if (options.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
  else if (result.status === 'submitted') {
    io.out(`${name} submitted: run ${result.runId}${result.runPageUrl ? ` ${result.runPageUrl}` : ''}\nfollow it with: choppa-lsp wait ${result.id}\n`);
  } else io.out(`error: ${result.error ? errorText(result.error) : 'unknown'}\n`);
  return result.status === 'submitted' ? 0 : 1;
}

/** `runs`, `wait RUN_ID` and `cancel RUN_ID` on the project's `.choppa/state.json`. */
async function followRuns(host: CliHost, options: CliOptions, io: Io): Promise<number> {
  const root = options.root ?? stateRoot(join(process.cwd(), 'x'));
  const workspace = host.workspace(root, options);
  if (options.command === 'runs') {
    // The states where the runs run, not the ones the last look stored.
    const unchecked = await workspace.submissions.refresh();
    if (unchecked.length > 0) io.err(`… ${unchecked.length} submitted run${unchecked.length === 1 ? '' : 's'} could not be checked (${unchecked[0]!.failure}); shown as last seen\n`);
  }
  const all = workspace.store.allSubmissions();
  if (options.command === 'runs') {
    const now = Date.now();
    if (options.json) {
      io.out(`${JSON.stringify(all.map(({ payload: _payload, ...record }) => record), null, 2)}\n`);
      return 0;
    }
    if (all.length === 0) io.out('no submitted runs\n');
    for (const record of all) {
      const result = workspace.store.byRunId(record.key, record.id);
      const outcome = record.state === 'succeeded' && result?.ref ? ` → ${describeRef(result.ref)}` : record.stateMessage ? ` (${record.stateMessage})` : '';
      io.out(`${record.id}  ${record.function}(${record.args})  ${record.state.toUpperCase()}  run ${record.handle?.runId ?? '-'}  ${formatDuration(now - Date.parse(record.createdAt))} ago${outcome}\n`);
    }
    return 0;
  }
  const record = all.find((candidate) => candidate.id === options.target || candidate.handle?.runId === options.target);
  if (!record) {
    io.err(`choppa-lsp ${options.command}: no submitted run ${options.target} in ${join(root, '.choppa')}\n`);
    return 1;
  }
  if (options.command === 'cancel') {
    const cancelled = await workspace.submissions.cancel(record.id);
    if ('failure' in cancelled) {
      io.err(`choppa-lsp cancel: ${cancelled.failure}\n`);
      return 1;
    }
    io.out(`cancelled ${record.function} (run ${record.handle?.runId ?? record.id})\n`);
    return 0;
  }
  let last = '';
  const ended = await workspace.submissions.wait(record.id, (current) => {
    if (current.state !== last) io.err(`… ${current.function}: ${current.state.toUpperCase()}${current.stateMessage ? ` (${current.stateMessage})` : ''}\n`);
    last = current.state;
  });
  const result = ended ? workspace.store.byRunId(ended.key, ended.id) : undefined;
  if (options.json) io.out(`${JSON.stringify({ submission: ended, result }, null, 2)}\n`);
  else if (result?.status === 'ok' && result.ref) io.out(`${record.function} → ${describeRef(result.ref)} at ${result.ref.path}\n`);
  else if (result?.error) io.out(`error: ${errorText(result.error)}\n`);
  else io.out(`${record.function}: ${ended?.state ?? 'unknown'}\n`);
  return ended?.state === 'succeeded' ? 0 : ended?.state === 'cancelled' ? 130 : 1;
}

/** The cluster commands (issue 11), on the project's workspace. */
async function clusterCommand(host: CliHost, options: CliOptions, io: Io): Promise<number> {
  const root = options.root ?? stateRoot(join(process.cwd(), 'x'));
  const workspace = host.workspace(root, options);
  return await runClusterCommand(options, workspace, join(root, '.choppa'), io);
}

/** One command, on what `host` keeps. */
async function dispatch(host: CliHost, options: CliOptions, io: Io): Promise<number> {
  switch (options.command) {
    case 'list':
      return listFile(host, options, io);
    case 'run':
    case 'artifact':
      return await runTarget(host, options, io);
    case 'deref':
      return await derefTarget(host, options, io);
    case 'config':
      return showConfig(options, io);
    case 'bundle':
      return showBundle(host, options, io);
    case 'submit':
      return await submitTarget(host, options, io);
    case 'runs':
    case 'wait':
    case 'cancel':
      return await followRuns(host, options, io);
    case 'clusters':
    case 'cluster-start':
    case 'context-restart':
    case 'jobs':
      return await clusterCommand(host, options, io);
    case 'daemon': {
      const { daemonCommand } = await import('../cli-daemon/daemon-control.js');
      return daemonCommand(options.target, io, options.json);
    }
  }
}

/**
 * Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. `host` is
 * what stays warm between commands (the daemon's); without one, what this command made is let go
 * when it ends.
 */
export async function runCli(argv: string[], io: Io = processIo, kept?: CliHost): Promise<number> {
  const options = parseCliArguments(argv);
  if ('usage' in options) {
    const text = options.version ? `${options.usage}${describeParserEngine()}\n` : options.usage;
    (options.exitCode === 0 ? io.out : io.err)(text);
    return options.exitCode;
  }
  const host = kept ?? new CliHost();
  try {
    return await host.serving(io, () => dispatch(host, options, io));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') {
      // Not a usage mistake: the file is named right and is not there (or is a folder).
      io.err(`choppa-lsp: cannot read ${(error as NodeJS.ErrnoException).path ?? options.target}: ${code === 'ENOENT' ? 'no such file' : 'it is a folder'}\n`);
      return 2;
    }
    throw error;
  } finally {
    if (!kept) await host.dispose();
  }
}
