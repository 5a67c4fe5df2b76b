// The emulated Command Execution API 1.2: every execution context is a real python3 process running
// repl-driver.py, commands on one context run one at a time in arrival order, and results, cancel
// and lost contexts answer with the camelCase shapes and `{error}` bodies of the real service. The
// runtime profile decides the output cap and the REPL; idle contexts are evicted least recently
// used first once a cluster holds its limit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { EMULATOR_USER, type Clusters } from './clusters.js';
import { HttpError, json, legacyError, requireString, type Reply } from './http-util.js';
import { capOutput, type RuntimeProfile } from './runtime-profiles.js';

export const REPL_DRIVER_PATH = fileURLToPath(new URL('./repl-driver.py', import.meta.url));

/** Loads the driver as a module so `__main__` stays a clean user namespace. */
const BOOT = `def _emulator_boot():
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location('_emulator_repl', sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
_emulator_boot()
`;

type ContextStatus = 'Pending' | 'Running' | 'Error';
type CommandStatus = 'Queued' | 'Running' | 'Cancelling' | 'Cancelled' | 'Finished' | 'Error';

/** `results` of a command, as the service sends it. */
export type Results =
  | { resultType: 'text'; data: string }
  | { resultType: 'error'; summary?: string; cause?: string; data?: string };

interface CommandRecord {
  id: string;
  clusterId: string;
  contextId: string;
  command: string;
  status: CommandStatus;
  results?: Results;
  settled: Promise<void>;
  settle: () => void;
}

interface ContextRecord {
  id: string;
  clusterId: string;
  status: ContextStatus;
  child: ChildProcess;
  input: Writable;
  queue: CommandRecord[];
  current?: CommandRecord;
  count: number;
  exited: Promise<void>;
  /** When a call last named this context, for least-recently-used eviction. */
  lastUsed: number;
  /** Ends `Error` instead of `Running` once its process is up (`failContextStarts`). */
  doomed?: boolean;
}

// The service's answer to `commands/cancel`: `Finished` with this error result (the Databricks VS
// Code extension's integration tests), not a `Cancelled` status.
const CANCELLED_RESULTS: Results = {
  resultType: 'error',
  summary: '',
  cause:
    'com.databricks.backend.common.rpc.CommandCancelledException\n\tat com.databricks.backend.daemon.driver.DriverLocal.cancel(DriverLocal.scala:1245)\n\tat com.databricks.backend.daemon.driver.DriverWrapper.cancelCommand(DriverWrapper.scala:812)',
};

// What a context that is shut down (destroyed, or restarted) does to the command it was running:
// the same exception as a cancel, thrown from the context's shutdown, as a user of another client
// recorded it (paiqo/Databricks-VSCode#132: "com.databricks.backend.common.rpc.
// CommandCancelledException at com.databricks.spark.chauffeur.ExecContextState.shutdown").
const CONTEXT_SHUTDOWN_RESULTS: Results = {
  resultType: 'error',
  summary: '',
  cause:
    'com.databricks.backend.common.rpc.CommandCancelledException\n\tat com.databricks.spark.chauffeur.ExecContextState.$anonfun$shutdown$3(ExecContextState.scala:419)\n\tat scala.collection.immutable.List.flatMap(List.scala:366)\n\tat com.databricks.spark.chauffeur.ExecContextState.shutdown(ExecContextState.scala:419)',
};

const KERNEL_LOST_RESULTS: Results = {
  resultType: 'error',
  summary: 'Fatal error: The Python kernel is unresponsive.',
  cause: 'Fatal error: The Python kernel is unresponsive.\nThe Python process exited unexpectedly.',
};

// A command that ends `Error` (not a raised exception: the driver under it went away) carries its
// message in `results.data`, which is where dbt reads it (databricks/dbt-databricks
// `dbt/adapters/databricks/api_client.py` `_extract_error_message`, and dbt-labs/dbt-spark
// `python_submissions.py` `_get_exception`); no client reads a summary or cause for it.
function clusterTerminatedResults(clusterId: string): Results {
  return {
    resultType: 'error',
    data: `com.databricks.backend.common.rpc.DriverStoppedException: Cluster ${clusterId} was terminated while the command was running.`,
  };
}

export interface ExecutionOptions {
  pythonPath: string;
  fsRoot: string;
  runtime: RuntimeProfile;
  /** Contexts a cluster keeps before evicting the least recently used idle one (145 on the service). */
  maxContexts: number;
  /** What a call on an evicted context answers: the service's status for it is not documented. */
  evictedContextStatus: 400 | 500;
}

export class Execution {
  private readonly contexts = new Map<string, ContextRecord>();
  private readonly commands = new Map<string, CommandRecord>();
  private readonly children = new Set<ContextRecord>();
  private readonly evicted = new Set<string>();
  private failingStarts = 0;
  /** Commands whose context dies once they ran, their answers held back (`dieAfterCommand`). */
  private readonly fatal: Array<{ match: RegExp; delayMs: number }> = [];

  constructor(
    private readonly clusters: Clusters,
    private readonly options: ExecutionOptions,
  ) {}

  handleCreateContext(body: Record<string, unknown>): Reply {
    const clusterId = this.requireRunningCluster(body);
    // Another user's single-user cluster: the service's single-user check, as users report it
    // from job submissions and notebooks ("PERMISSION_DENIED: Single-user check failed: user 'a'
    // attempted to run a command on single-user cluster <id>, but the single user of this
    // cluster is 'b'."), in 1.2's shape. (A shared cluster without Can Attach To answers
    // "You do not have permission to attach to cluster <id>" instead; the emulator has no ACLs.)
    if (!this.clusters.mayAttach(clusterId)) {
      const owner = this.clusters.get(clusterId)?.single_user_name ?? 'another user';
      throw legacyError(403, `PERMISSION_DENIED: Single-user check failed: user '${EMULATOR_USER}' attempted to run a command on single-user cluster ${clusterId}, but the single user of this cluster is '${owner}'.`);
    }
    const language = requireString(body, 'language', true);
    if (!['python', 'scala', 'sql', 'r'].includes(language)) {
      throw legacyError(400, `Invalid language: ${language}. Supported languages are python, scala, sql and r.`);
    }
    if (language !== 'python') throw legacyError(400, `The emulator runs only python execution contexts, not ${language}.`);
    this.evictFor(clusterId);
    const context = this.spawnContext(clusterId);
    if (this.failingStarts > 0) {
      this.failingStarts -= 1;
      context.doomed = true;
    }
    return json({ id: context.id });
  }

  /**
   * The next `count` contexts created end `Error` instead of `Running`, as contexts do on a
   * cluster under heavy load: dbt-databricks retries that case (databricks/dbt-databricks
   * `dbt/adapters/databricks/api_client.py`, `_create_execution_context`: "ContextStatus.ERROR
   * can occur when cluster is under heavy load").
   */
  failContextStarts(count: number): void {
    this.failingStarts = count;
  }

  handleContextStatus(query: URLSearchParams): Reply {
    const params = Object.fromEntries(query);
    this.requireCluster(params);
    const context = this.requireContext(params);
    return json({ id: context.id, status: context.status });
  }

  handleDestroyContext(body: Record<string, unknown>): Reply {
    this.requireCluster(body);
    const context = this.requireContext(body);
    this.dropContext(context, CONTEXT_SHUTDOWN_RESULTS, 'Finished', CONTEXT_SHUTDOWN_RESULTS);
    return json({ id: context.id });
  }

  handleExecute(body: Record<string, unknown>): Reply {
    const clusterId = this.requireRunningCluster(body);
    const context = this.requireContext(body);
    const command = body['command'];
    if (typeof command !== 'string') throw legacyError(400, 'Missing required field: command');
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const record: CommandRecord = { id: randomBytes(16).toString('hex'), clusterId, contextId: context.id, command, status: 'Queued', settled, settle };
    this.commands.set(record.id, record);
    context.queue.push(record);
    this.pump(context);
    return json({ id: record.id });
  }

  handleCommandStatus(query: URLSearchParams): Reply {
    const params = Object.fromEntries(query);
    this.requireCluster(params);
    const command = this.findCommand(params);
    return json({ id: command.id, status: command.status, results: command.results ?? null });
  }

  async handleCancel(body: Record<string, unknown>): Promise<Reply> {
    this.requireCluster(body);
    const command = this.findCommand(body);
    const context = this.contexts.get(command.contextId);
    if (command.status === 'Queued' && context) {
      context.queue = context.queue.filter((queued) => queued !== command);
      this.finish(command, 'Finished', CANCELLED_RESULTS);
    } else if (command.status === 'Running' && context) {
      command.status = 'Cancelling';
      // The REPL ignores an interrupt that lands before the cell has started (a stray SIGINT
      // between cells), so keep interrupting until the cell ends. Answering once it has (or
      // after a short wait) keeps Cancelling brief, as on the service for interruptible code.
      let settled = false;
      void command.settled.then(() => {
        settled = true;
      });
      const deadline = Date.now() + 2000;
      while (!settled && Date.now() < deadline && context.child.exitCode === null) {
        context.child.kill('SIGINT');
        await Promise.race([command.settled, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      if (!settled) void this.keepInterrupting(command, context);
    }
    return json({ id: command.id });
  }

  /** Goes on interrupting a cell that outlived the cancel answer, until it ends. */
  private async keepInterrupting(command: { settled: Promise<unknown> }, context: { child: { kill: (signal: NodeJS.Signals) => boolean; exitCode: number | null } }): Promise<void> {
    let settled = false;
    void command.settled.then(() => {
      settled = true;
    });
    while (!settled && context.child.exitCode === null) {
      context.child.kill('SIGINT');
      await Promise.race([command.settled, new Promise((resolve) => setTimeout(resolve, 250))]);
    }
  }

  /** Kills a context's process as if the REPL died; later calls answer as for a missing context. */
  loseContext(contextId?: string): void {
    const targets = contextId ? [this.contexts.get(contextId)] : [...this.contexts.values()];
    for (const context of targets) {
      if (!context) throw new Error(`no execution context ${contextId}`);
      context.child.kill('SIGKILL');
    }
  }

  /**
   * The context that runs the next command matching `match` dies `delayMs` after that command
   * answered, and the answer never comes back: the command ends as the kernel lost, as when user
   * code kills the REPL while the command that started it is still under way.
   */
  dieAfterCommand(match: RegExp, delayMs: number): void {
    this.fatal.push({ match, delayMs });
  }

  /** Ends every context of a cluster that the service stopped. */
  clusterTerminated(clusterId: string): void {
    for (const context of [...this.contexts.values()]) {
      if (context.clusterId === clusterId) this.dropContext(context, clusterTerminatedResults(clusterId), 'Error');
    }
  }

  /** Evicts a context as the service does an idle one (the least recently used one of the cluster by default). */
  evictContext(contextId?: string): string {
    const context = contextId ? this.contexts.get(contextId) : this.leastRecentlyUsed(undefined, () => true);
    if (!context) throw new Error(`no execution context ${contextId ?? 'to evict'}`);
    this.evict(context);
    return context.id;
  }

  /** Ids of the contexts alive now. */
  contextIds(): string[] {
    return [...this.contexts.keys()];
  }

  /** Makes room for one more context on a cluster at its limit: the least recently used idle one goes. */
  private evictFor(clusterId: string): void {
    const onCluster = [...this.contexts.values()].filter((context) => context.clusterId === clusterId);
    if (onCluster.length < this.options.maxContexts) return;
    const idle = this.leastRecentlyUsed(clusterId, (context) => !context.current && context.queue.length === 0);
    if (!idle) throw legacyError(400, `Too many execution contexts are open right now (limit ${this.options.maxContexts}) and none is idle.`);
    this.evict(idle);
  }

  private leastRecentlyUsed(clusterId: string | undefined, eligible: (context: ContextRecord) => boolean): ContextRecord | undefined {
    let oldest: ContextRecord | undefined;
    for (const context of this.contexts.values()) {
      if (clusterId !== undefined && context.clusterId !== clusterId) continue;
      if (!eligible(context)) continue;
      if (!oldest || context.lastUsed < oldest.lastUsed) oldest = context;
    }
    return oldest;
  }

  private evict(context: ContextRecord): void {
    this.evicted.add(context.id);
    this.dropContext(context, KERNEL_LOST_RESULTS, 'Error');
  }

  /** Kills every python process and waits until all have exited. */
  async stop(): Promise<void> {
    const all = [...this.children];
    for (const context of all) {
      this.contexts.delete(context.id);
      context.child.kill('SIGKILL');
    }
    await Promise.all(all.map((context) => context.exited));
  }

  private spawnContext(clusterId: string): ContextRecord {
    const args = ['-u', '-c', BOOT, REPL_DRIVER_PATH, ...(this.options.runtime.swapsStdout ? ['--swap-stdout'] : [])];
    const child = spawn(this.options.pythonPath, args, {
      cwd: this.options.fsRoot,
      env: { ...process.env, CHOPPA_FS_ROOT: this.options.fsRoot, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const exited = once(child, 'close').then(
      () => undefined,
      () => undefined,
    );
    const context: ContextRecord = {
      id: String(randomInt(1, 2 ** 47)) + String(randomInt(100000, 999999)),
      clusterId,
      status: 'Pending',
      child,
      input: child.stdio[3] as Writable,
      queue: [],
      count: 0,
      exited,
      lastUsed: Date.now(),
    };
    this.contexts.set(context.id, context);
    this.children.add(context);
    // Output outside any cell goes nowhere, but the pipes must be drained so Python never blocks.
    child.stdout?.resume();
    child.stderr?.resume();
    context.input.on('error', () => {});
    child.on('error', () => {
      context.status = 'Error';
    });
    const answers = createInterface({ input: child.stdio[4] as Readable });
    answers.on('line', (line) => this.onAnswer(context, line));
    void exited.then(() => {
      this.children.delete(context);
      if (this.contexts.get(context.id) !== context) return;
      // A process that never became ready (bad interpreter, crash on boot) leaves an Error context.
      if (context.status !== 'Running') context.status = 'Error';
      else this.dropContext(context, KERNEL_LOST_RESULTS, 'Finished');
    });
    return context;
  }

  private onAnswer(context: ContextRecord, line: string): void {
    const answer = JSON.parse(line) as { ready?: boolean; id?: string; cancelled?: boolean; results?: Results };
    if (answer.ready) {
      if (context.doomed) {
        context.status = 'Error';
        context.child.kill('SIGKILL');
        return;
      }
      context.status = 'Running';
      this.pump(context);
      return;
    }
    const command = context.current;
    if (!command || command.id !== answer.id) return;
    const fatal = this.fatal.findIndex((rule) => rule.match.test(command.command));
    if (fatal >= 0) {
      const [rule] = this.fatal.splice(fatal, 1);
      setTimeout(() => context.child.kill('SIGKILL'), rule!.delayMs);
      return;
    }
    context.current = undefined;
    if (answer.cancelled) this.finish(command, 'Finished', CANCELLED_RESULTS);
    else this.finish(command, 'Finished', this.capped(answer.results ?? { resultType: 'text', data: '' }));
    this.pump(context);
  }

  private pump(context: ContextRecord): void {
    if (context.status !== 'Running' || context.current) return;
    const next = context.queue.shift();
    if (!next) return;
    context.current = next;
    context.count += 1;
    next.status = 'Running';
    context.input.write(JSON.stringify({ id: next.id, command: next.command, count: context.count }) + '\n');
  }

  /** A text result over the runtime's cap keeps its head and tail around the marker. */
  private capped(results: Results): Results {
    if (results.resultType !== 'text') return results;
    return { resultType: 'text', data: capOutput(results.data, this.options.runtime.outputCap) };
  }

  private finish(command: CommandRecord, status: CommandStatus, results: Results): void {
    command.status = status;
    command.results = results;
    command.settle();
  }

  /** Forgets a context (its commands stay readable) and ends what it was still doing. */
  private dropContext(context: ContextRecord, results: Results, status: CommandStatus, queuedResults: Results = CANCELLED_RESULTS): void {
    this.contexts.delete(context.id);
    if (context.current) this.finish(context.current, status, results);
    for (const queued of context.queue) this.finish(queued, 'Finished', queuedResults);
    context.current = undefined;
    context.queue = [];
    context.child.kill('SIGKILL');
  }

  private requireCluster(params: Record<string, unknown>): string {
    const clusterId = requireString(params, 'clusterId', true);
    if (!this.clusters.get(clusterId)) throw legacyError(400, `Cluster ${clusterId} does not exist`);
    return clusterId;
  }

  private requireRunningCluster(params: Record<string, unknown>): string {
    const clusterId = this.requireCluster(params);
    const state = this.clusters.get(clusterId)!.state;
    if (state === 'RUNNING' || state === 'RESIZING') return clusterId;
    if (state === 'PENDING' || state === 'RESTARTING') {
      throw legacyError(400, `ClusterNotReadyException: Cluster ${clusterId} is ${state} and not ready to run commands yet.`);
    }
    throw legacyError(400, `Cluster ${clusterId} is not running (state ${state}). Start the cluster before running commands.`);
  }

  private requireContext(params: Record<string, unknown>): ContextRecord {
    const contextId = requireString(params, 'contextId', true);
    const context = this.contexts.get(contextId);
    if (!context || context.clusterId !== params['clusterId']) throw this.missingContext(contextId);
    context.lastUsed = Date.now();
    return context;
  }

  /**
   * A gone context: 400 as for one that never existed, or the configured status for an evicted one.
   * The 500 carries 1.2's `{error}` body, as 1.2's 500s do (databrickslabs/dbx#261), with the words
   * Databricks uses for a context that went away (kb.databricks.com "Maximum execution context or
   * notebook attachment limit reached": "Context ExecutionContextId(<id>) is disconnected.").
   */
  private missingContext(contextId: string): HttpError {
    if (this.evicted.has(contextId) && this.options.evictedContextStatus === 500) {
      return legacyError(500, `Context ExecutionContextId(${contextId}) is disconnected.`);
    }
    return legacyError(400, `Context ${contextId} does not exist.`);
  }

  private findCommand(params: Record<string, unknown>): CommandRecord {
    const commandId = requireString(params, 'commandId', true);
    const contextId = requireString(params, 'contextId', true);
    const command = this.commands.get(commandId);
    if (command && command.contextId === contextId && command.clusterId === params['clusterId']) {
      const context = this.contexts.get(contextId);
      if (context) context.lastUsed = Date.now();
      return command;
    }
    if (!this.contexts.has(contextId)) throw this.missingContext(contextId);
    throw legacyError(400, `Command ${commandId} does not exist.`);
  }
}
