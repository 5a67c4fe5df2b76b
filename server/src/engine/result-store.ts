// The last result of every function of a workspace, in memory and in `.choppa/state.json`.
// Writes merge with what is on disk (a CLI run and the server may share a workspace) and are
// atomic; a corrupt file is moved aside with a warning, never a crash.
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from './run-record.js';
import { ensureStateDir, writeAtomic } from './state-dir.js';

interface StateFile {
  version: 1;
  results: Record<string, RunRecord>;
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

function newer(a: RunRecord | undefined, b: RunRecord): boolean {
  return a === undefined || a.finishedAt < b.finishedAt;
}

export class ResultStore {
  private results = new Map<string, RunRecord>();
  private readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly warn: (message: string) => void,
  ) {
    this.file = join(dir, 'state.json');
    this.results = this.readDisk();
  }

  get(key: string): RunRecord | undefined {
    return this.results.get(key);
  }

  /** Every stored record with its key. */
  entries(): IterableIterator<[string, RunRecord]> {
    return this.results.entries();
  }

  /** Stores a record and persists the store; merging keeps the newest record per key. */
  set(key: string, record: RunRecord): void {
    this.results.set(key, record);
    const merged = this.readDisk();
    for (const [k, r] of this.results) if (newer(merged.get(k), r)) merged.set(k, r);
    this.results = merged;
    const state: StateFile = { version: 1, results: Object.fromEntries(merged) };
    ensureStateDir(this.dir);
    writeAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`);
  }

  private readDisk(): Map<string, RunRecord> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return new Map();
    }
    try {
      const parsed = JSON.parse(text) as Partial<StateFile>;
      if (parsed.version !== 1 || parsed.results === null || typeof parsed.results !== 'object') {
        throw new Error('unexpected shape');
      }
      return new Map(Object.entries(parsed.results).filter((entry): entry is [string, RunRecord] => isRecord(entry[1])));
    } catch {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      try {
        renameSync(this.file, aside);
        this.warn(`${this.file} was not valid choppa state; it was moved to ${aside} and a new one started.`);
      } catch {
        this.warn(`${this.file} is not valid choppa state and could not be moved aside; results will not persist.`);
      }
      return new Map();
    }
  }
}
