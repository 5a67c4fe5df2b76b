// A workspace's stored results and submitted runs: per function, per call (its arguments), the
// latest record and a short history. On disk, `.choppa/state.json` is a snapshot and
// `.choppa/journal.jsonl` an append-only journal of what changed since, compacted now and then,
// so a run writes one line whatever the number of stored results. Every writer (the server,
// CLI runs) appends under `state.lock`; a corrupt snapshot is moved aside, never a crash.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SubmittedHandle, SubmittedState, SubmitCompute } from '../backends/backend.js';
import { shortOutcome } from './format.js';
import type { CodeVersion } from './result-identity.js';
import { isRunRecord, isSubmissionRecord } from './stored-record-shape.js';
import type { RunRecord } from './run-record.js';
import { ensureStateDir, writeAtomic } from './state-dir.js';
import { withStateLock } from './state-lock.js';

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
  /** The call's identity (`CallSite.key`), so the result lands on the call it came from. */
  call?: string;
  /** The code version it runs, so its result can be told stale or current. */
  version?: CodeVersion;
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

/** One earlier run of a call, as the hover lists it. */
export interface HistoryEntry {
  runId: string;
  args: string;
  status: RunRecord['status'];
  /** `3`, `ArtifactRef 1.2 MB (list)`, `ValueError: …`. */
  outcome: string;
  durationMs: number;
  finishedAt: string;
  cached: boolean;
}

/** The results of one call of a function: the latest record whole, earlier ones summarised. */
interface CallResults {
  latest: RunRecord;
  /** Newest first, the latest included. */
  history: HistoryEntry[];
}

const ENDED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);
/** Calls kept per function: older calls (by their latest run) are forgotten first. */
export const CALLS_PER_FUNCTION = 32;
/** Runs remembered per call. */
export const HISTORY_PER_CALL = 5;
/** Ended submissions kept at compaction: their results live on in the records. */
const ENDED_SUBMISSIONS_KEPT = 200;
/**
 * The journal is folded into the snapshot past this size, or past half the snapshot's, so that
 * compaction stays amortised O(1) per write however many results are stored.
 */
const COMPACT_BYTES = 256 * 1024;
/** Other processes' writes are looked for at most this often. */
const RELOAD_INTERVAL_MS = 200;

type JournalLine =
  | { k: 'head'; id: string }
  | { k: 'result'; fn: string; record: RunRecord }
  | { k: 'submission'; record: SubmissionRecord };

interface Snapshot {
  version: 2;
  results: Record<string, Record<string, CallResults>>;
  submissions: Record<string, SubmissionRecord>;
}

/** The key of a function's results: its file relative to the workspace, and its name. */
export function resultKey(relativePath: string, functionName: string): string {
  return `${relativePath.split('\\').join('/')}::${functionName}`;
}


function historyEntry(record: RunRecord): HistoryEntry {
  return {
    runId: record.runId,
    args: record.args,
    status: record.status,
    outcome: shortOutcome(record, 60),
    durationMs: record.durationMs,
    finishedAt: record.finishedAt,
    cached: record.cached !== undefined,
  };
}

function newHead(): { k: 'head'; id: string } {
  return { k: 'head', id: `${process.pid}-${Date.now()}-${randomBytes(6).toString('hex')}` };
}

/** The id on a journal's first line (`''` for a journal without one). */
function headOf(fd: number): string {
  const buffer = Buffer.alloc(160);
  const count = readSync(fd, buffer, 0, buffer.length, 0);
  const line = buffer.subarray(0, count).toString('utf8').split('\n')[0] ?? '';
  const match = /^\{"k":"head","id":"([^"]+)"\}$/.exec(line);
  return match?.[1] ?? '';
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Records from before calls had an identity belong to the call their arguments spell. */
function callOf(record: RunRecord): string {
  return typeof record.call === 'string' ? record.call : record.args.trim();
}

export class ResultStore {
  private results = new Map<string, Map<string, CallResults>>();
  private submissions = new Map<string, SubmissionRecord>();
  /** Submitted runs not yet ended, by function key. */
  private pending = new Map<string, Set<string>>();
  private readonly snapshotFile: string;
  private readonly journalFile: string;
  /**
   * The journal we have read: its head id and how far (bytes, to the end of a whole line). The
   * id, not the inode, tells a new journal from the old one: inodes are reused at once.
   */
  private journal: { id: string; offset: number } | undefined;
  private checkedAt = 0;
  /** The size of the snapshot last read or written. */
  private snapshotBytes = 0;
  /**
   * False until something reads: a process that only stores (a CLI run with literal arguments)
   * appends its line without reading the snapshot and journal (6.5 MB at 10,000 results).
   */
  private loaded = false;

  /** `onCompacted` runs after each compaction (under the lock): the time to let go of what no record names. */
  constructor(
    private readonly dir: string,
    private readonly warn: (message: string) => void,
    private readonly onCompacted?: () => void,
  ) {
    this.snapshotFile = join(dir, 'state.json');
    this.journalFile = join(dir, 'journal.jsonl');
  }

  /** The newest record of a function, whichever call it came from. */
  latest(fnKey: string): RunRecord | undefined {
    this.freshen();
    let newest: RunRecord | undefined;
    for (const entry of this.results.get(fnKey)?.values() ?? []) {
      if (newest === undefined || entry.latest.finishedAt > newest.finishedAt) newest = entry.latest;
    }
    return newest;
  }

  /** The latest record of one call of a function. */
  forCall(fnKey: string, call: string): RunRecord | undefined {
    this.freshen();
    return this.results.get(fnKey)?.get(call)?.latest;
  }

  /** The record a run left (its latest call record with that run id), if still kept. */
  byRunId(fnKey: string, runId: string): RunRecord | undefined {
    this.freshen();
    for (const entry of this.results.get(fnKey)?.values() ?? []) if (entry.latest.runId === runId) return entry.latest;
    return undefined;
  }

  /** The runs of one call, newest first. */
  history(fnKey: string, call: string): HistoryEntry[] {
    this.freshen();
    return this.results.get(fnKey)?.get(call)?.history ?? [];
  }

  /** The latest record of every call of a function, newest first. */
  calls(fnKey: string): RunRecord[] {
    this.freshen();
    return [...(this.results.get(fnKey)?.values() ?? [])].map((entry) => entry.latest).sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1));
  }

  /** The run ids any kept record, history entry or submission names. */
  referencedRunIds(): Set<string> {
    if (!this.loaded) this.loadAll();
    const ids = new Set<string>(this.submissions.keys());
    for (const calls of this.results.values()) {
      for (const { latest, history } of calls.values()) {
        ids.add(latest.runId);
        for (const entry of history) ids.add(entry.runId);
      }
    }
    return ids;
  }

  /** Every function key with the latest record of each of its calls. */
  *entries(): IterableIterator<[string, RunRecord]> {
    this.freshen();
    for (const [fnKey, calls] of this.results) for (const entry of calls.values()) yield [fnKey, entry.latest];
  }

  /** Stores a record (under its function and call) and appends it to the journal. */
  set(fnKey: string, record: RunRecord): void {
    this.flush();
    this.apply({ k: 'result', fn: fnKey, record });
    this.append({ k: 'result', fn: fnKey, record });
  }

  /**
   * Stores a record at once and appends it to the journal on the next turn of the event loop
   * (or at `flush`, or before any other write or reload): the server answers a run before the
   * journal's lock, catch-up and append (0.3 ms of a warm run). Reads see it at once.
   */
  setSoon(fnKey: string, record: RunRecord): void {
    const line: JournalLine = { k: 'result', fn: fnKey, record };
    this.apply(line);
    this.unwritten.push(line);
    this.flushing ??= setImmediate(() => this.flushOrWarn());
  }

  /** Appends what `setSoon` stored and has not written yet; on disk when this returns. */
  flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    const lines = this.unwritten;
    if (lines.length === 0) return;
    this.unwritten = [];
    for (const line of lines) this.append(line);
  }

  private unwritten: JournalLine[] = [];
  private flushing: NodeJS.Immediate | undefined;

  private flushOrWarn(): void {
    try {
      this.flush();
    } catch (error) {
      this.warn(`Could not save results to ${this.journalFile}: ${(error as Error).message}`);
    }
  }

  /** Every submitted run the store knows, newest first. */
  allSubmissions(): SubmissionRecord[] {
    this.freshen();
    return [...this.submissions.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  }

  submission(id: string): SubmissionRecord | undefined {
    if (!this.loaded) this.loadAll();
    return this.submissions.get(id);
  }

  /** The newest submitted run of a function still in flight. */
  pendingFor(fnKey: string): SubmissionRecord | undefined {
    this.freshen();
    let newest: SubmissionRecord | undefined;
    for (const id of this.pending.get(fnKey) ?? []) {
      const record = this.submissions.get(id);
      if (record && (newest === undefined || record.createdAt > newest.createdAt)) newest = record;
    }
    return newest;
  }

  /** Stores (or updates) a submitted run; it is on disk before this returns. */
  setSubmission(record: SubmissionRecord): void {
    this.flush();
    const stamped = { ...record, updatedAt: new Date().toISOString() };
    this.apply({ k: 'submission', record: stamped });
    this.append({ k: 'submission', record: stamped });
  }

  /** Picks up what other processes (the CLI, another server) wrote since. */
  reload(): void {
    this.checkedAt = Date.now();
    try {
      this.flush();
      // Nothing read yet, nothing to bring up to date: the first read reads it all.
      if (this.loaded) this.catchUp();
    } catch (error) {
      this.warn(`Could not read ${this.journalFile}: ${(error as Error).message}`);
    }
  }

  private freshen(): void {
    if (!this.loaded) {
      this.checkedAt = Date.now();
      this.loadAll();
    } else if (Date.now() - this.checkedAt >= RELOAD_INTERVAL_MS) this.reload();
  }

  private apply(line: JournalLine): void {
    if (line.k === 'result') {
      let calls = this.results.get(line.fn);
      if (!calls) {
        calls = new Map();
        this.results.set(line.fn, calls);
      }
      const call = callOf(line.record);
      const current = calls.get(call);
      // The same line read twice (a reload racing our own append) changes nothing.
      if (current?.history.some((entry) => entry.runId === line.record.runId && entry.finishedAt === line.record.finishedAt)) return;
      if (current && current.latest.finishedAt > line.record.finishedAt) {
        current.history = [...current.history, historyEntry(line.record)].sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1)).slice(0, HISTORY_PER_CALL);
        return;
      }
      calls.delete(call);
      calls.set(call, { latest: line.record, history: [historyEntry(line.record), ...(current?.history ?? [])].slice(0, HISTORY_PER_CALL) });
      if (calls.size > CALLS_PER_FUNCTION) {
        const oldest = [...calls.entries()].sort((a, b) => (a[1].latest.finishedAt < b[1].latest.finishedAt ? -1 : 1))[0];
        if (oldest) calls.delete(oldest[0]);
      }
    } else if (line.k === 'submission') {
      const current = this.submissions.get(line.record.id);
      if (current && current.updatedAt > line.record.updatedAt) return;
      this.submissions.set(line.record.id, line.record);
      const key = line.record.key;
      const ids = this.pending.get(key) ?? new Set<string>();
      if (ENDED.has(line.record.state)) ids.delete(line.record.id);
      else ids.add(line.record.id);
      if (ids.size > 0) this.pending.set(key, ids);
      else this.pending.delete(key);
    }
  }

  /** Appends one line under the lock, after catching up with other writers; compacts when due. */
  private append(line: JournalLine): void {
    ensureStateDir(this.dir);
    withStateLock(this.dir, () => {
      if (!this.loaded) {
        this.appendUnread(line);
        return;
      }
      this.catchUp();
      // Catching up may have read everything again, without the line we are adding.
      this.apply(line);
      const fd = openSync(this.journalFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      try {
        const size = fstatSync(fd).size;
        let text = `${JSON.stringify(line)}\n`;
        if (size === 0) {
          const head = newHead();
          text = `${JSON.stringify(head)}\n${text}`;
          this.journal = { id: head.id, offset: 0 };
        } else if (size !== this.journal?.offset) {
          // A writer killed mid-line leaves a torn tail: end it so our line stands alone.
          text = `\n${text}`;
        }
        writeSync(fd, text);
        this.journal = { id: this.journal?.id ?? '', offset: fstatSync(fd).size };
      } finally {
        closeSync(fd);
      }
      if ((this.journal?.offset ?? 0) > Math.max(COMPACT_BYTES, this.snapshotBytes / 2)) this.compact();
    });
  }

  /**
   * Appends a line to a journal this process has not read (under the lock): after a torn tail
   * its own line starts on a line of its own; a compaction, when due, reads everything first.
   */
  private appendUnread(line: JournalLine): void {
    const fd = openSync(this.journalFile, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    let size: number;
    try {
      const before = fstatSync(fd).size;
      let text = `${JSON.stringify(line)}\n`;
      if (before === 0) text = `${JSON.stringify(newHead())}\n${text}`;
      else {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, before - 1);
        if (last[0] !== 0x0a) text = `\n${text}`;
      }
      writeSync(fd, text);
      size = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
    let snapshot = 0;
    try {
      snapshot = statSync(this.snapshotFile).size;
    } catch {
      // No snapshot yet.
    }
    if (size > Math.max(COMPACT_BYTES, snapshot / 2)) {
      this.loadAll();
      this.compact();
    }
  }

  /** Reads the journal lines written since we last looked; all of it again after a compaction. */
  private catchUp(): void {
    let fd: number;
    try {
      fd = openSync(this.journalFile, 'r');
    } catch {
      // No journal: only a snapshot (or nothing) exists.
      if (this.journal !== undefined) this.loadAll();
      return;
    }
    let reload = false;
    try {
      const size = fstatSync(fd).size;
      if (this.journal === undefined || headOf(fd) !== this.journal.id || size < this.journal.offset) reload = true;
      else if (size > this.journal.offset) this.readJournal(fd, this.journal.offset);
    } finally {
      closeSync(fd);
    }
    if (reload) this.loadAll();
  }

  /** Applies the whole lines of an open journal from `offset` on. */
  private readJournal(fd: number, offset: number): void {
    const id = headOf(fd);
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    let read = 0;
    while (read < buffer.length) {
      const count = readSync(fd, buffer, read, buffer.length - read, offset + read);
      if (count === 0) break;
      read += count;
    }
    const end = buffer.lastIndexOf(0x0a, read - 1);
    // Only whole lines: a line being written now is read next time.
    if (end < 0) {
      this.journal = { id, offset };
      return;
    }
    for (const text of buffer.subarray(0, end).toString('utf8').split('\n')) this.applyText(text);
    this.journal = { id, offset: offset + end + 1 };
  }

  private applyText(text: string): void {
    if (text.trim() === '') return;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      // A torn line from a killed writer: the rest of the journal still counts.
      return;
    }
    const value = line as Partial<JournalLine> & Record<string, unknown>;
    if (value.k === 'result' && typeof value.fn === 'string' && isRunRecord(value.record)) this.apply(value as JournalLine);
    else if (value.k === 'result' && typeof value.fn === 'string') this.dropDamaged(value.fn, value.record);
    else if (value.k === 'submission' && isSubmissionRecord(value.record)) this.apply(value as JournalLine);
    else if (value.k === 'submission') this.warnDamaged(`a damaged submitted run${typeof value.record?.id === 'string' ? ` (${value.record.id})` : ''}`, 'it was left out');
  }

  /**
   * A whole journal line whose record lacks a field (edited by hand, written by a broken build):
   * its call shows no result rather than the one before it, which would pass for the newest.
   */
  private dropDamaged(fnKey: string, record: unknown): void {
    const fields = (record !== null && typeof record === 'object' ? record : {}) as Record<string, unknown>;
    const call = typeof fields['call'] === 'string' ? fields['call'] : typeof fields['args'] === 'string' ? fields['args'].trim() : undefined;
    if (call !== undefined) this.results.get(fnKey)?.delete(call);
    const run = typeof fields['runId'] === 'string' ? fields['runId'] : '?';
    this.warnDamaged(`a damaged result of ${fnKey} (run ${run})`, 'it was left out, so that call shows no result until it runs again');
  }

  private warnDamaged(what: string, consequence: string): void {
    if (this.damaged.has(what)) return;
    this.damaged.add(what);
    this.warn(`${this.journalFile} holds ${what}; ${consequence}.`);
  }

  /** The damaged journal lines already warned about. */
  private readonly damaged = new Set<string>();

  /**
   * Reads the snapshot and the whole journal. Without the lock: a compaction between the two
   * reads (the snapshot replaced, so a new inode) would pair an old snapshot with a new journal,
   * so that case reads both again.
   */
  private loadAll(): void {
    for (let attempt = 0; ; attempt += 1) {
      this.results = new Map();
      this.submissions = new Map();
      this.pending = new Map();
      this.journal = undefined;
      const before = inodeOf(this.snapshotFile);
      this.readSnapshot();
      let fd: number | undefined;
      try {
        fd = openSync(this.journalFile, 'r');
      } catch {
        // No journal yet.
      }
      if (fd !== undefined) {
        try {
          this.readJournal(fd, 0);
        } finally {
          closeSync(fd);
        }
      }
      if (inodeOf(this.snapshotFile) === before || attempt >= 5) {
        // What waits to be written (`setSoon`) is newer than anything on disk.
        for (const line of this.unwritten) this.apply(line);
        this.loaded = true;
        return;
      }
    }
  }

  private readSnapshot(): void {
    let text: string;
    try {
      text = readFileSync(this.snapshotFile, 'utf8');
    } catch (error) {
      // A folder where the snapshot goes would fail every compaction while the journal grows:
      // it is moved aside as a corrupt snapshot is.
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') this.moveAside();
      return;
    }
    this.snapshotBytes = text.length;
    try {
      const parsed = JSON.parse(text) as { version?: number; results?: unknown; submissions?: unknown };
      if ((parsed.version !== 1 && parsed.version !== 2) || parsed.results === null || typeof parsed.results !== 'object') throw new Error('unexpected shape');
      for (const [fnKey, value] of Object.entries(parsed.results as Record<string, unknown>)) {
        if (parsed.version === 1) {
          // Version 1 kept one record per function.
          if (isRunRecord(value)) this.apply({ k: 'result', fn: fnKey, record: value });
          continue;
        }
        if (value === null || typeof value !== 'object') continue;
        for (const [call, entry] of Object.entries(value as Record<string, Partial<CallResults>>)) {
          if (!isRunRecord(entry?.latest)) continue;
          let calls = this.results.get(fnKey);
          if (!calls) {
            calls = new Map();
            this.results.set(fnKey, calls);
          }
          const history = Array.isArray(entry.history) ? entry.history.filter((item): item is HistoryEntry => typeof item?.runId === 'string').slice(0, HISTORY_PER_CALL) : [];
          calls.set(call, { latest: entry.latest, history: history.length > 0 ? history : [historyEntry(entry.latest)] });
        }
      }
      for (const value of Object.values((parsed.submissions ?? {}) as Record<string, unknown>)) {
        if (isSubmissionRecord(value)) this.apply({ k: 'submission', record: value });
      }
    } catch {
      this.moveAside();
    }
  }

  private moveAside(): void {
    const aside = `${this.snapshotFile}.corrupt-${Date.now()}`;
    try {
      renameSync(this.snapshotFile, aside);
      this.warn(`${this.snapshotFile} was not valid choppa state; it was moved to ${aside} and a new one started.`);
    } catch {
      this.warn(`${this.snapshotFile} is not valid choppa state and could not be moved aside; results will not persist.`);
    }
  }

  /** Folds the journal into a new snapshot and starts a new journal (called under the lock). */
  private compact(): void {
    const ended = [...this.submissions.values()].filter((record) => ENDED.has(record.state)).sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
    for (const record of ended.slice(ENDED_SUBMISSIONS_KEPT)) this.submissions.delete(record.id);
    const snapshot: Snapshot = { version: 2, results: {}, submissions: Object.fromEntries(this.submissions) };
    for (const [fnKey, calls] of this.results) snapshot.results[fnKey] = Object.fromEntries(calls);
    const text = `${JSON.stringify(snapshot)}\n`;
    writeAtomic(this.snapshotFile, text);
    this.snapshotBytes = text.length;
    // A new journal with a new head id: readers that see it know to read the snapshot again.
    const head = newHead();
    const headLine = `${JSON.stringify(head)}\n`;
    writeAtomic(this.journalFile, headLine);
    this.journal = { id: head.id, offset: Buffer.byteLength(headLine) };
    this.onCompacted?.();
  }
}
