// The one interface every place that runs Python implements (the local python3 process, a
// Databricks cluster), with the runner's wire types. The engine only ever talks to this;
// the same contract tests run against every implementation.

/** How the runner resolves an argument name that stands for an earlier result. */
export type ArgRef =
  /** An artifact: loaded from its pickle where the function runs, never downloaded. */
  | { path: string }
  /**
   * A value still held by the runner in the same warm process, by the run that made it; `call`
   * names that call (`load(1000)` at line 3) for the message when the process no longer has it.
   */
  | { run_id: string; call?: string };

/** The JSON payload of one run, sent base64-encoded to the runner (DESIGN §4). */
export interface RunPayload {
  run_id: string;
  mode: 'remote' | 'artifact';
  function_name: string;
  /** The function's `def` through the end of its body, without decorators. */
  source: string;
  /** Python argument source: literals, plus names listed in `args_refs` (`"1, b=data"`). */
  args_source: string;
  args_refs: Record<string, ArgRef>;
  /** Names passed by value: an earlier call's small result, as its pickle in base64. */
  args_values?: Record<string, string>;
  /** Names passed by value: module constants, as literal source for `ast.literal_eval`. */
  args_literals?: Record<string, string>;
  /** Bytes; null means always return the value. */
  result_size_max: number | null;
  /** Where artifacts go: `/Workspace/...`, `/Volumes/...` or `dbfs:/...`. */
  artifact_dir: string;
  /**
   * The project code the function imports, shipped as a content-hashed zip (`bundle/`): the
   * runner puts `path` on `sys.path` after checking its sha256 against `hash`, and purges
   * `modules` of another version from `sys.modules`. Absent when the function imports no project
   * module. `package` is the function's own package, so its relative imports resolve. `hash` is
   * part of the run's code version.
   */
  bundle?: { path: string; hash: string; modules: string[]; package?: string };
  /**
   * Requirement lines to pip-install before the run (`bundle/requirements.ts`), and the
   * third-party top-level modules the shipped code imports: when one of them cannot be found
   * where the run happens, the runner installs the lines once per `hash` into a folder it keeps
   * (and reuses), and puts it on `sys.path`.
   */
  requirements?: { hash: string; lines: string[]; imports: string[] };
  /**
   * The run claims its id on the machine where it runs before any of its code does, and a second
   * start of that id there is refused (`ChoppaAlreadyStarted`): the Databricks backend sets it, so
   * a start it retries on a new context after the first died under it never runs the function twice.
   */
  claim?: boolean;
}

/** Project code to make available where runs happen, at `path` (see `RunPayload.bundle`). */
export interface CodeUpload {
  path: string;
  hash: string;
  zip: Uint8Array;
}

/** A small value that came back inline. */
export interface ValueInfo {
  /** `repr()` of the value, capped. */
  repr: string;
  /** Qualified type name (`int`, `pandas.core.frame.DataFrame`). */
  type: string;
  /** Pickled size in bytes, or null when the value does not pickle. */
  size: number | null;
  /** The value itself when it is small and JSON-able. */
  json?: unknown;
  /**
   * The pickle in base64 when it is small (at most `BY_VALUE_MAX` bytes): kept with the record so
   * that a later call can be passed this value after a restart, or from the CLI.
   */
  pickle?: string;
  /** A Markdown table of its first rows and columns with its shape, when it is table-like. */
  table?: string;
}

/** A result stored remotely: `<artifact_dir>/<name>.pkl` plus a `.json` sidecar. */
export interface ArtifactRef {
  path: string;
  size: number;
  sha256: string;
  type: string;
  preview: string;
  /** As `ValueInfo.table`. */
  table?: string;
  /** ISO 8601. */
  created: string;
}

/** A frame of a remote traceback; `line` is 1-based within the shipped `source`. */
export interface RemoteFrame {
  line: number;
  function: string;
  text: string;
}

export interface RemoteError {
  type: string;
  message: string;
  /** Frames inside the shipped source, outermost first: the outermost and innermost 50 at most. */
  frames: RemoteFrame[];
  /** How many frames between those were left out (a deep recursion). */
  framesOmitted?: number;
  /** The formatted traceback as Python printed it. */
  traceback?: string;
  /**
   * `remote` when user code raised; `backend` when the run could not happen (the process
   * died, the cluster is gone): then the message says what to do.
   */
  origin: 'remote' | 'backend';
}

interface OutcomeBase {
  /** The end of the run's output (at most `OUTPUT_TAIL_CHARS`, headed by a line saying what was left out); `onOutput` got all of it. */
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type RunOutcome =
  | (OutcomeBase & { status: 'ok'; value: ValueInfo })
  | (OutcomeBase & { status: 'ok'; ref: ArtifactRef })
  | (OutcomeBase & { status: 'error'; error: RemoteError })
  /** `message` says who cancelled when it was not this run's own signal (the command was cancelled on the cluster). */
  | (OutcomeBase & { status: 'cancelled'; message?: string });

/** What a backend reports while it works, for work-done progress. */
export interface ProgressReport {
  message: string;
  /** 0-100 when known. */
  percentage?: number;
  /** The message is the run's latest output line (a client streaming `onOutput` has it already). */
  output?: true;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (report: ProgressReport) => void;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface FetchOptions {
  signal?: AbortSignal;
  onProgress?: (report: ProgressReport) => void;
}

/** Where a submitted job runs on Databricks; the local backend ignores it. */
export type SubmitCompute = 'cluster' | 'serverless';

/** A fire-and-forget run (DESIGN §2 `submit`): the runner as a job, detached from the server. */
export interface SubmitRequest {
  /** Mode `artifact`: a submitted run's result is always an `ArtifactRef`. */
  payload: RunPayload;
  /**
   * Decided and stored by the engine before the request, so a server killed between request
   * and response resubmits with the same token and gets the same run, never a duplicate.
   */
  idempotencyToken: string;
  compute: SubmitCompute;
}

/** The life cycle of a submitted run, the same for every backend. */
export type SubmittedState = 'pending' | 'running' | 'terminating' | 'succeeded' | 'failed' | 'cancelled';

/** What the engine persists in `.choppa/state.json` to find the run again after a restart. */
export interface SubmittedHandle {
  /** The backend's run id (the Databricks parent run id, or a local id). */
  runId: string;
  runPageUrl?: string;
  /** Backend-specific data needed to poll, read the result, or cancel (JSON-serialisable). */
  data: Record<string, unknown>;
}

export interface SubmittedStatus {
  state: SubmittedState;
  /** The service's or the process's own words about the state. */
  stateMessage?: string;
  /** On `succeeded`: the stored result. */
  ref?: ArtifactRef;
  /** On `failed`: the remote error, with frames relative to the shipped source when known. */
  error?: RemoteError;
  /** The task's output, when the run has ended and the backend can read it. */
  logs?: string;
}

/** The contract every backend keeps; results are unions, failures never throw. */
export interface Backend {
  readonly kind: 'local' | 'databricks' | 'dask';
  /** A short human label for diagnostics and hover (`local python3.11`, `cluster 0123-…`). */
  label(): string;
  /**
   * Where artifacts go when neither the code nor the settings name a folder, when this backend
   * has a private default (a Databricks workspace: the current user's folder). Absent: the
   * engine's default.
   */
  defaultArtifactDir?(options?: FetchOptions): Promise<string | BackendFailure>;
  /**
   * Starts what a run needs first (a Databricks execution context) without waiting, so that it
   * overlaps the work before the run; the run joins it, and its failures surface there. Absent:
   * nothing worth starting early.
   */
  prepare?(): void;
  /** Runs one payload to completion (or cancellation through `signal`). */
  run(payload: RunPayload, options?: RunOptions): Promise<RunOutcome>;
  /** Reads an artifact's `.json` sidecar, without touching the pickle. */
  readArtifactMetadata(path: string, options?: FetchOptions): Promise<ArtifactRef | BackendFailure>;
  /**
   * Streams the artifact's pickle into `destination` (a local file path), returning what was
   * written so the caller can verify it against the ref.
   */
  fetchArtifact(
    path: string,
    destination: string,
    options?: FetchOptions,
  ): Promise<{ size: number; sha256: string } | BackendFailure>;
  /** Submits a fire-and-forget run; returns as soon as the run exists. */
  submit(request: SubmitRequest, options?: FetchOptions): Promise<SubmittedHandle | BackendFailure>;
  /** The current state of a submitted run (and its result or error once it ended). */
  submittedStatus(handle: SubmittedHandle, options?: FetchOptions): Promise<SubmittedStatus | BackendFailure>;
  /** Cancels a submitted run where it runs. */
  cancelSubmitted(handle: SubmittedHandle): Promise<{ cancelled: true } | BackendFailure>;
  /**
   * Puts a code bundle at its storage path unless it is already there (same name, same hash):
   * `uploaded` says whether bytes were sent. Runs and submissions call it before they start.
   */
  shipCode(code: CodeUpload, options?: FetchOptions): Promise<{ uploaded: boolean } | BackendFailure>;
  /**
   * Which of these top-level module names cannot be imported where runs happen (the warm
   * process or execution context is the judge), with installed requirements on the path.
   */
  missingImports(names: readonly string[], options?: FetchOptions): Promise<string[] | BackendFailure>;
  /** Ends warm processes and contexts (submitted runs keep going). */
  dispose(): Promise<void>;
}

/** A failure of the backend itself, with what the user can do about it. */
export interface BackendFailure {
  failure: string;
}

export function isFailure(value: object): value is BackendFailure {
  return 'failure' in value;
}
