// A workspace's `.choppa/state.json`: the last result of every function and every submitted run
// with its idempotency token. Writes merge with what is on disk (a CLI run and the server may
// share a workspace) and are atomic; a corrupt file is moved aside with a warning, never a crash.
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { SubmittedHandle, SubmittedState, SubmitCompute } from '../backends/backend.js';
import type { RunRecord } from './run-record.js';
import { ensureStateDir, writeAtomic } from './state-dir.js';

/** Where a submitted run went, so a restarted server finds the same backend again. */
export type SubmissionTarget = { kind: 'local' } | { kind: 'databricks'; clusterId: string } | { kind: 'dask'; scheduler: string };

/** A submitted run as the store keeps it, from before the request until its result is in. */
export interface SubmissionRecord {
  /** Our run id (the runner payload's `run_id`). */
  id: string;
  /** The result key of the function (`file.py::name`). */
  key: string;
  function: string;
  args: string;
  /** Written before the request: a resubmission with it gets the same run, never a second. */
  idempotencyToken: string;
  compute: SubmitCompute;
  target: SubmissionTarget;
  /** The payload, kept until the backend accepted it so a resubmission sends the same run. */
  payload?: unknown;
  handle?: SubmittedHandle;
  /** `submitting` until the backend answered. */
  state: SubmittedState | 'submitting';
  stateMessage?: string;
  backend: string;
  createdAt: string;
  updatedAt: string;
}

interface StateFile {
  version: 1;
  results: Record<string, RunRecord>;
  submissions?: Record<string, SubmissionRecord>;
}

/** The key of a function's results: its file relative to the workspace, and its name. */
export function resultKey(relativePath: string, functionName: string): string {
  return `${relativePath.split('\\').join('/')}::${functionName}`;
}

function isRecord(value: unknown): value is RunRecord {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Partial<RunRecord>;
  return typeof record.runId === 'string' && typeof record.function === 'string' && typeof record.status === 'string';
}

function isSubmission(value: unknown): value is SubmissionRecord {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Partial<SubmissionRecord>;
  return typeof record.id === 'string' && typeof record.idempotencyToken === 'string' && typeof record.updatedAt === 'string';
}

/** Keeps, per key, the entry with the later timestamp. */
function mergeNewer<T>(into: Map<string, T>, from: Map<string, T>, stamp: (value: T) => string): void {
  for (const [key, value] of from) {
    const current = into.get(key);
    if (current === undefined || stamp(current) < stamp(value)) into.set(key, value);
  }
}

export class ResultStore {
  private results = new Map<string, RunRecord>();
  private submissions = new Map<string, SubmissionRecord>();
  private readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly warn: (message: string) => void,
  ) {
    this.file = join(dir, 'state.json');
    const disk = this.readDisk();
    this.results = disk.results;
    this.submissions = disk.submissions;
  }

  get(key: string): RunRecord | undefined {
    return this.results.get(key);
  }

  /** Every stored record with its key. */
  entries(): IterableIterator<[string, RunRecord]> {
    return this.results.entries();
  }

  /** Stores a record and persists the store. */
  set(key: string, record: RunRecord): void {
    this.results.set(key, record);
    this.persist();
  }

  /** Every submitted run the store knows, newest first. */
  allSubmissions(): SubmissionRecord[] {
    return [...this.submissions.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  }

  submission(id: string): SubmissionRecord | undefined {
    return this.submissions.get(id);
  }

  /** Stores (or updates) a submitted run and persists the store before returning. */
  setSubmission(record: SubmissionRecord): void {
    this.submissions.set(record.id, { ...record, updatedAt: new Date().toISOString() });
    this.persist();
  }

  /** Picks up what another process (the CLI, another server) wrote since. */
  reload(): void {
    const disk = this.readDisk();
    mergeNewer(this.results, disk.results, (r) => r.finishedAt);
    mergeNewer(this.submissions, disk.submissions, (s) => s.updatedAt);
  }

  private persist(): void {
    const disk = this.readDisk();
    mergeNewer(disk.results, this.results, (r) => r.finishedAt);
    mergeNewer(disk.submissions, this.submissions, (s) => s.updatedAt);
    this.results = disk.results;
    this.submissions = disk.submissions;
    const state: StateFile = {
      version: 1,
      results: Object.fromEntries(this.results),
      submissions: Object.fromEntries(this.submissions),
    };
    ensureStateDir(this.dir);
    writeAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`);
  }

  private readDisk(): { results: Map<string, RunRecord>; submissions: Map<string, SubmissionRecord> } {
    const empty = { results: new Map<string, RunRecord>(), submissions: new Map<string, SubmissionRecord>() };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return empty;
    }
    try {
      const parsed = JSON.parse(text) as Partial<StateFile>;
      if (parsed.version !== 1 || parsed.results === null || typeof parsed.results !== 'object') {
        throw new Error('unexpected shape');
      }
      return {
        results: new Map(Object.entries(parsed.results).filter((entry): entry is [string, RunRecord] => isRecord(entry[1]))),
        submissions: new Map(
          Object.entries(parsed.submissions ?? {}).filter((entry): entry is [string, SubmissionRecord] => isSubmission(entry[1])),
        ),
      };
    } catch {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      try {
        renameSync(this.file, aside);
        this.warn(`${this.file} was not valid choppa state; it was moved to ${aside} and a new one started.`);
      } catch {
        this.warn(`${this.file} is not valid choppa state and could not be moved aside; results will not persist.`);
      }
      return empty;
    }
  }
}
