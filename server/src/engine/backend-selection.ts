// Decides where a workspace's runs go: the Databricks workspace the settings, `DATABRICKS_*`
// environment and `~/.databrickscfg` resolve to (one backend per cluster, one HTTP client), or
// the embedded local python3 when no workspace is configured at all, or the Dask scheduler when
// `choppa.backend` is `dask`. It also says what is wrong when the configuration is broken or
// names no cluster, and where it looked.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import type { ChoppaInstance } from '../analysis/model.js';
import type { Backend } from '../backends/backend.js';
import { credentialsFor } from '../backends/databricks/credentials.js';
import { LazyClusterBackend } from '../backends/databricks/lazy-cluster-backend.js';
import { DatabricksHttpClient, type RetryNotice } from '../backends/databricks/http-client.js';
import { undiciTransport, type HttpTransport } from '../backends/databricks/http-transport.js';
import { runCommand } from '../backends/databricks/run-command.js';
import { userAgent } from '../backends/databricks/user-agent.js';
import { LocalBackend } from '../backends/local/local-backend.js';
import { DaskBackend, schedulerProblem } from '../backends/dask/dask-backend.js';
import { DASK_DRIVER_PATH } from '../backends/dask/dask-driver.js';
import { loadConfigFile } from '../config/config-file.js';
import { resolveCluster, resolveConfig, type ResolvedConfig, type ResolveResult } from '../config/databricks-config.js';
import { describeConfig } from '../config/describe-config.js';
import type { Settings } from '../config/settings.js';
import type { SubmissionTarget } from './result-store.js';
import { VERSION } from '../version.js';
import { findExecutable, pythonCommand } from '../platform/host-paths.js';
import { recordContext, recordedContext } from '../clusters/context-registry.js';

function contextRecorder(stateDir: string, host: string, clusterId: string): (change: { created: string } | { dropped: string }) => void {
  return (change) => recordContext(stateDir, host, clusterId, change);
}

export interface BackendSelectionOptions {
  settings: Settings;
  env: NodeJS.ProcessEnv;
  /** Where the local backend keeps `/Workspace`, `/Volumes` and `dbfs:/` when not set. */
  defaultLocalRoot: string;
  runnerPath: string;
  logger: (message: string) => void;
  /** Told when a Databricks call is about to be tried again (`http-client.ts`), to say why a run waits. */
  onRetry?: (notice: RetryNotice) => void;
  homeDir?: string;
  /** The state folder: each cluster's warm context is recorded there (`clusters/context-registry.ts`). */
  stateDir?: string;
  /**
   * Reuse the warm context recorded in the state folder and leave it warm at exit (the CLI: one
   * process per run, so creating and destroying a context each time would cost seconds a run).
   */
  reuseContexts?: boolean;
  /** How Databricks requests reach the wire; undici (for a long-lived server) when absent, through `env`'s https proxy if any. */
  transport?: HttpTransport;
}

export type Selected = { backend: Backend } | { failure: string };

/** True when an executable `name` is on the PATH of `env` (`az.cmd` counts as `az` on Windows). */
function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  const isExecutable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  return findExecutable(name, env, process.platform, isExecutable) !== undefined;
}

/** Resolves the Databricks configuration from settings, environment and config file. */
export function resolveWorkspaceConfig(settings: Settings, env: NodeJS.ProcessEnv, homeDir = homedir()): ResolveResult {
  return resolveConfig({
    settings: {
      host: settings.host,
      profile: settings.profile,
      configFile: settings.configFile,
      authType: settings.authType,
      clusterId: settings.clusterId,
    },
    env,
    readFile: loadConfigFile,
    homeDir,
    // Probed only when an auth strategy needs its tool (two lookups along PATH, every resolve).
    tools: {
      get databricksCli() {
        return onPath('databricks', env);
      },
      get azureCli() {
        return onPath('az', env);
      },
    },
  });
}

/**
 * "No workspace configured at all": no host from any source and no profile asked for. Then the
 * local backend runs; anything more than that is a configuration to honour or to report.
 */
function nothingConfigured(result: ResolveResult, settings: Settings, env: NodeJS.ProcessEnv): boolean {
  if (result.ok) return false;
  const asked = settings.profile ?? env.DATABRICKS_CONFIG_PROFILE;
  return result.sources['host'] === undefined && (asked === undefined || asked === '');
}

export class BackendSelection {
  /**
   * `local` when runs go to the embedded python3; `databricks` when a workspace resolved; `dask`
   * when `choppa.backend` says so.
   */
  readonly mode: 'local' | 'databricks' | 'misconfigured' | 'dask';
  readonly config: ResolveResult | undefined;
  private local: LocalBackend | undefined;
  private dask: DaskBackend | undefined;
  private client: DatabricksHttpClient | undefined;
  private readonly clusters = new Map<string, LazyClusterBackend>();
  private runnerSource: string | undefined;

  constructor(private readonly options: BackendSelectionOptions) {
    if (options.settings.backend === 'local') {
      this.mode = 'local';
      return;
    }
    if (options.settings.backend === 'dask') {
      this.mode = 'dask';
      return;
    }
    const result = resolveWorkspaceConfig(options.settings, options.env, options.homeDir);
    this.config = result;
    if (nothingConfigured(result, options.settings, options.env)) this.mode = 'local';
    else this.mode = result.ok ? 'databricks' : 'misconfigured';
  }

  /** The configuration problem a `Choppa(...)` line should show, if any. */
  problemFor(instance: Pick<ChoppaInstance, 'clusterId'> | undefined): string | undefined {
    if (this.mode === 'dask') return schedulerProblem(this.daskScheduler());
    if (this.mode === 'local' || !this.config) return undefined;
    if (!this.config.ok) return `Databricks configuration: ${this.config.error}`;
    const cluster = resolveCluster(instance?.clusterId ?? undefined, this.config);
    if (!cluster.ok) return cluster.error;
    if (cluster.kind === 'serverless') return 'serverless compute runs only submitted jobs; set a cluster for Run remotely (Choppa(cluster_id=...) or choppa.clusterId)';
    return undefined;
  }

  /** The backend runs of `instance` go to, or why there is none. */
  forInstance(instance: Pick<ChoppaInstance, 'clusterId'> | undefined): Selected {
    if (this.mode === 'local') return { backend: this.localBackend() };
    if (this.mode === 'dask') return this.daskSelected();
    const problem = this.problemFor(instance);
    if (problem !== undefined || !this.config?.ok) return { failure: problem ?? 'Databricks is not configured' };
    const cluster = resolveCluster(instance?.clusterId ?? undefined, this.config);
    if (!cluster.ok || cluster.kind !== 'cluster') return { failure: problem ?? 'no cluster' };
    return { backend: this.clusterBackend(cluster.clusterId) };
  }

  /**
   * A backend that can read artifacts by logical path (any cluster of the workspace will do);
   * with `madeOn`, the backend label of the run that made them, the backend of that kind.
   */
  forArtifacts(madeOn?: string): Selected {
    if (madeOn?.startsWith('local python')) return { backend: this.localBackend() };
    if (madeOn?.startsWith('dask ') && (this.mode !== 'dask' || `dask ${this.daskScheduler()}` !== madeOn)) {
      return { failure: `this artifact was made on the Dask scheduler at ${madeOn.slice('dask '.length)}, and only that scheduler holds it; set choppa.backend to "dask" and choppa.dask.scheduler to it to download it` };
    }
    if (madeOn?.startsWith('cluster ') && this.mode !== 'databricks') {
      return { failure: `this artifact was made on Databricks ${madeOn}, and no Databricks workspace is configured now; configure that workspace to download it` };
    }
    if (this.mode === 'local') return { backend: this.localBackend() };
    if (this.mode === 'dask') return this.daskSelected();
    if (!this.config?.ok) return { failure: this.problemFor(undefined) ?? 'Databricks is not configured' };
    const first = this.clusters.values().next();
    if (!first.done) return { backend: first.value };
    const cluster = resolveCluster(undefined, this.config);
    return { backend: this.clusterBackend(cluster.ok && cluster.kind === 'cluster' ? cluster.clusterId : '') };
  }

  /** The backend a stored submission target names (after a restart, say). */
  forTarget(target: SubmissionTarget): Selected {
    if (target.kind === 'local') return { backend: this.localBackend() };
    if (target.kind === 'dask') {
      // A handle holds the scheduler it was submitted to; only that scheduler knows the run.
      if (this.mode !== 'dask' || this.daskScheduler() !== target.scheduler) {
        return { failure: `this run was submitted to the Dask scheduler at ${target.scheduler}; set choppa.backend to "dask" and choppa.dask.scheduler to it to follow it` };
      }
      return this.daskSelected();
    }
    if (!this.config?.ok) return { failure: this.problemFor(undefined) ?? 'Databricks is not configured' };
    return { backend: this.clusterBackend(target.clusterId) };
  }

  /** The target to store for a submission that went to `backend`. */
  targetOf(backend: Backend): SubmissionTarget {
    for (const [clusterId, candidate] of this.clusters) if (candidate === backend) return { kind: 'databricks', clusterId };
    if (this.dask && backend === this.dask) return { kind: 'dask', scheduler: this.daskScheduler() ?? '' };
    return { kind: 'local' };
  }

  /** A short label of where runs of `instance` go. */
  labelFor(instance: Pick<ChoppaInstance, 'clusterId'> | undefined): string {
    const selected = this.forInstance(instance);
    return 'backend' in selected ? selected.backend.label() : 'nowhere yet (see the problem on the Choppa line)';
  }

  /** What was resolved and from where, secrets redacted (like `databricks auth describe`). */
  describe(): string {
    if (this.options.settings.backend === 'local') return 'choppa.backend is "local": runs use the embedded local Python backend.';
    if (this.mode === 'dask') {
      const from = this.options.settings.dask.scheduler ? 'choppa.dask.scheduler' : 'DASK_SCHEDULER_ADDRESS';
      const scheduler = this.daskScheduler();
      return scheduler
        ? `choppa.backend is "dask": runs go to the Dask scheduler at ${scheduler} (from ${from}), through ${this.options.settings.dask.pythonPath}.`
        : `choppa.backend is "dask": ${schedulerProblem(scheduler)}.`;
    }
    if (this.mode === 'local') return 'No Databricks workspace is configured: runs use the embedded local Python backend.';
    return describeConfig(this.config!);
  }

  /** The one HTTP client of the workspace, made on first use. */
  private httpClient(config: ResolvedConfig): DatabricksHttpClient {
    // The environment's https proxy applies as it does to the Databricks CLI and SDKs.
    const transport = { transport: this.options.transport ?? undiciTransport(undefined, this.options.env) };
    this.client ??= new DatabricksHttpClient({
      host: config.host,
      credentials: credentialsFor(config.auth, { host: config.host, runCommand, ...transport }),
      userAgent: userAgent({ version: VERSION, authType: config.auth.type }),
      ...(this.config ? { configFile: this.config.file.path } : {}),
      logger: this.options.logger,
      ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}),
      ...transport,
    });
    return this.client;
  }

  /** The workspace's HTTP client and host, for cluster operations (issue 11); none when not Databricks. */
  workspaceAccess(): { client: DatabricksHttpClient; host: string; authType: string } | undefined {
    if (this.mode !== 'databricks' || !this.config?.ok) return undefined;
    const config = this.config.config;
    return { client: this.httpClient(config), host: config.host, authType: config.auth.type };
  }

  /** The backend of a cluster this workspace already runs on, if any (its warm context). */
  existingClusterBackend(clusterId: string): LazyClusterBackend | undefined {
    return this.clusters.get(clusterId);
  }

  /** The cluster runs of `instance` go to, when it is a Databricks cluster. */
  clusterIdFor(instance: Pick<ChoppaInstance, 'clusterId'> | undefined): string | undefined {
    if (this.mode !== 'databricks' || !this.config?.ok) return undefined;
    const cluster = resolveCluster(instance?.clusterId ?? undefined, this.config);
    return cluster.ok && cluster.kind === 'cluster' ? cluster.clusterId : undefined;
  }

  async dispose(): Promise<void> {
    const all: Backend[] = [...this.clusters.values()];
    if (this.local) all.push(this.local);
    if (this.dask) all.push(this.dask);
    this.clusters.clear();
    this.local = undefined;
    this.dask = undefined;
    await Promise.all(all.map((backend) => backend.dispose()));
  }

  /** The scheduler address: the setting, else Dask's own `DASK_SCHEDULER_ADDRESS`. */
  private daskScheduler(): string | null {
    return this.options.settings.dask.scheduler ?? (this.options.env['DASK_SCHEDULER_ADDRESS'] || null);
  }

  private daskSelected(): Selected {
    const scheduler = this.daskScheduler();
    const problem = schedulerProblem(scheduler);
    if (problem !== undefined || scheduler === null) return { failure: problem ?? 'no Dask scheduler' };
    this.dask ??= new DaskBackend({
      pythonPath: pythonCommand(this.options.settings.dask.pythonPath, process.platform),
      scheduler,
      runnerPath: this.options.runnerPath,
      driverPath: DASK_DRIVER_PATH,
      cwd: tmpdir(),
      logger: this.options.logger,
    });
    return { backend: this.dask };
  }

  private localBackend(): LocalBackend {
    this.local ??= new LocalBackend({
      pythonPath: pythonCommand(this.options.settings.pythonPath, process.platform),
      fsRoot: this.options.settings.localRoot ?? this.options.defaultLocalRoot,
      runnerPath: this.options.runnerPath,
      logger: this.options.logger,
      passEnvironment: (this.options.settings.passEnvironment ?? '').split(',').map((name) => name.trim()).filter(Boolean),
    });
    return this.local;
  }

  private clusterBackend(clusterId: string): LazyClusterBackend {
    const existing = this.clusters.get(clusterId);
    if (existing) return existing;
    const config = (this.config as Extract<ResolveResult, { ok: true }>).config;
    this.runnerSource ??= readFileSync(this.options.runnerPath, 'utf8');
    const backend = new LazyClusterBackend({
      client: this.httpClient(config),
      host: config.host,
      clusterId,
      runnerSource: this.runnerSource,
      autoStartCluster: this.options.settings.autoStartCluster,
      serverlessEnvironmentVersion: this.options.settings.serverless.environmentVersion,
      logger: this.options.logger,
      ...(this.options.stateDir !== undefined ? { onContextChange: contextRecorder(this.options.stateDir, config.host, clusterId) } : {}),
      ...(this.options.stateDir !== undefined && this.options.reuseContexts
        ? { reuseContext: { recorded: () => recordedContext(this.options.stateDir!, config.host, clusterId), keepOnDispose: true } }
        : {}),
    });
    this.clusters.set(clusterId, backend);
    return backend;
  }
}
