// A cluster's backend whose code loads on its first use: the Databricks backend and everything
// behind it (1.2 commands, jobs, artifact transfer) is imported by the first run, submission or
// transfer, not at start, so a server answers `initialize` without it. Holds no state of its own.
import type {
  ArtifactRef,
  Backend,
  BackendFailure,
  CodeUpload,
  FetchOptions,
  RunOptions,
  RunOutcome,
  RunPayload,
  SubmitRequest,
  SubmittedHandle,
  SubmittedStatus,
} from '../backend.js';
import type { DatabricksBackend, DatabricksBackendOptions } from './databricks-backend.js';

export class LazyClusterBackend implements Backend {
  readonly kind = 'databricks' as const;
  private loading: Promise<DatabricksBackend> | undefined;

  constructor(private readonly options: DatabricksBackendOptions) {}

  label(): string {
    return `cluster ${this.options.clusterId}`;
  }

  defaultArtifactDir(options?: FetchOptions): Promise<string | BackendFailure> {
    return this.backend().then((backend) => backend.defaultArtifactDir(options));
  }

  prepare(): void {
    this.backend().then((backend) => backend.prepare(), () => undefined);
  }

  async run(payload: RunPayload, options?: RunOptions): Promise<RunOutcome> {
    return (await this.backend()).run(payload, options);
  }

  async readArtifactMetadata(path: string, options?: FetchOptions): Promise<ArtifactRef | BackendFailure> {
    return (await this.backend()).readArtifactMetadata(path, options);
  }

  async fetchArtifact(path: string, destination: string, options?: FetchOptions): Promise<{ size: number; sha256: string } | BackendFailure> {
    return (await this.backend()).fetchArtifact(path, destination, options);
  }

  async submit(request: SubmitRequest, options?: FetchOptions): Promise<SubmittedHandle | BackendFailure> {
    return (await this.backend()).submit(request, options);
  }

  async submittedStatus(handle: SubmittedHandle, options?: FetchOptions): Promise<SubmittedStatus | BackendFailure> {
    return (await this.backend()).submittedStatus(handle, options);
  }

  async cancelSubmitted(handle: SubmittedHandle): Promise<{ cancelled: true } | BackendFailure> {
    return (await this.backend()).cancelSubmitted(handle);
  }

  async shipCode(code: CodeUpload, options?: FetchOptions): Promise<{ uploaded: boolean } | BackendFailure> {
    return (await this.backend()).shipCode(code, options);
  }

  async missingImports(names: readonly string[], options?: FetchOptions): Promise<string[] | BackendFailure> {
    return (await this.backend()).missingImports(names, options);
  }

  /** Whether there was a warm context to destroy; none when the backend never loaded. */
  async restartContext(): Promise<boolean> {
    return this.loading ? (await this.loading).restartContext() : false;
  }

  async dispose(): Promise<void> {
    if (this.loading) await (await this.loading).dispose();
  }

  private backend(): Promise<DatabricksBackend> {
    this.loading ??= import('./databricks-backend.js').then(({ DatabricksBackend }) => new DatabricksBackend(this.options));
    return this.loading;
  }
}
