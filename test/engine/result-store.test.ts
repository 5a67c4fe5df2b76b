// The result store on disk: results per function and call with a bounded history, a journal that
// survives restarts, torn lines and compaction, version-1 state files read as before, and many
// processes writing at once without losing a result.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CALLS_PER_FUNCTION, HISTORY_PER_CALL, ResultStore } from '../../server/src/engine/result-store.js';
import type { RunRecord } from '../../server/src/engine/run-record.js';
import { tempDir } from '../support/lsp-client.js';

const CHILD = fileURLToPath(new URL('./store-writer-child.mjs', import.meta.url));
let clock = Date.parse('2026-01-01T00:00:00Z');

function record(runId: string, call: string, extra: Partial<RunRecord> = {}): RunRecord {
  clock += 1000;
  return { runId, function: 'load', mode: 'remote', status: 'ok', args: call, call, stdout: '', stderr: '', durationMs: 5, backend: 'test', finishedAt: new Date(clock).toISOString(), value: { repr: call, type: 'int', size: 5 }, ...extra };
}

function quiet(): { warn: (message: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warn: (message) => warnings.push(message), warnings };
}

/** A state folder whose `state.json` is not JSON. */
function corruptSnapshot(): string {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'state.json'), '{not json');
  return dir;
}

describe('the result store', () => {
  it('stores a record written after the answer at once in memory, and on disk on the next turn of the event loop', async () => {
    const dir = tempDir();
    const store = new ResultStore(dir, quiet().warn);
    store.set('p.py::load', record('a', '1'));
    store.setSoon('p.py::load', record('b', '1'));
    store.setSoon('p.py::load', record('c', '2'));
    expect(store.forCall('p.py::load', '1')?.runId).toBe('b');
    expect(store.forCall('p.py::load', '2')?.runId).toBe('c');
    await new Promise((resolve) => setImmediate(resolve));
    const after = new ResultStore(dir, quiet().warn);
    expect(after.forCall('p.py::load', '1')?.runId).toBe('b');
    expect(after.forCall('p.py::load', '2')?.runId).toBe('c');
    expect(after.history('p.py::load', '1').map((entry) => entry.runId)).toEqual(['b', 'a']);
  });

  it('writes what waits before another write, a reload or a flush', () => {
    const dir = tempDir();
    const store = new ResultStore(dir, quiet().warn);
    store.setSoon('p.py::load', record('a', '1'));
    store.set('p.py::load', record('b', '2'));
    expect(new ResultStore(dir, quiet().warn).calls('p.py::load').map((r) => r.runId)).toEqual(['b', 'a']);
    store.setSoon('p.py::load', record('c', '3'));
    store.reload();
    expect(new ResultStore(dir, quiet().warn).forCall('p.py::load', '3')?.runId).toBe('c');
    store.setSoon('p.py::load', record('d', '4'));
    store.flush();
    expect(new ResultStore(dir, quiet().warn).forCall('p.py::load', '4')?.runId).toBe('d');
    expect(store.calls('p.py::load').map((r) => r.runId)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('keeps each call of a function apart, newest first, and finds them again after a restart', () => {
    const dir = tempDir();
    const store = new ResultStore(dir, quiet().warn);
    store.set('p.py::load', record('a', '1000'));
    store.set('p.py::load', record('b', '3'));
    expect(store.forCall('p.py::load', '1000')?.runId).toBe('a');
    expect(store.forCall('p.py::load', '3')?.runId).toBe('b');
    expect(store.latest('p.py::load')?.runId).toBe('b');
    const again = new ResultStore(dir, quiet().warn);
    expect(again.calls('p.py::load').map((r) => r.runId)).toEqual(['b', 'a']);
    expect(statSync(join(dir, 'journal.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('bounds the history of a call and the calls of a function', () => {
    const store = new ResultStore(tempDir(), quiet().warn);
    for (let i = 0; i < 12; i += 1) store.set('p.py::load', record(`r${i}`, '3'));
    expect(store.history('p.py::load', '3').map((entry) => entry.runId)).toEqual(['r11', 'r10', 'r9', 'r8', 'r7'].slice(0, HISTORY_PER_CALL));
    for (let i = 0; i < CALLS_PER_FUNCTION + 10; i += 1) store.set('p.py::load', record(`c${i}`, String(i)));
    expect(store.calls('p.py::load')).toHaveLength(CALLS_PER_FUNCTION);
    expect(store.forCall('p.py::load', '0')).toBeUndefined();
    expect(store.forCall('p.py::load', String(CALLS_PER_FUNCTION + 9))?.runId).toBe(`c${CALLS_PER_FUNCTION + 9}`);
  });

  it('skips a torn journal line left by a killed writer and keeps the rest', () => {
    const dir = tempDir();
    const store = new ResultStore(dir, quiet().warn);
    store.set('p.py::load', record('a', '1'));
    appendFileSync(join(dir, 'journal.jsonl'), '{"k":"result","fn":"p.py::load","rec');
    const next = new ResultStore(dir, quiet().warn);
    next.set('p.py::load', record('b', '2'));
    const read = new ResultStore(dir, quiet().warn);
    expect(read.calls('p.py::load').map((r) => r.runId).sort()).toEqual(['a', 'b']);
  });

  it('compacts a long journal into the snapshot and loses nothing', () => {
    const dir = tempDir();
    const store = new ResultStore(dir, quiet().warn);
    const stdout = 'x'.repeat(20_000);
    for (let i = 0; i < 80; i += 1) store.set(`f${i % 40}.py::f`, record(`r${i}`, String(i), { stdout }));
    expect(statSync(join(dir, 'journal.jsonl')).size).toBeLessThan(1 << 20);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).version).toBe(2);
    const read = new ResultStore(dir, quiet().warn);
    for (let i = 0; i < 80; i += 1) expect(read.forCall(`f${i % 40}.py::f`, String(i))?.runId, String(i)).toBe(`r${i}`);
  });

  it('reads a version-1 state file (one record per function) as that call of the function', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const old = record('old', '1, 2');
    delete old.call;
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 1, results: { 'p.py::add': old } }));
    const store = new ResultStore(dir, quiet().warn);
    expect(store.forCall('p.py::add', '1, 2')?.runId).toBe('old');
  });

  it('moves a corrupt snapshot aside with a warning', () => {
    const dir = corruptSnapshot();
    const { warn, warnings } = quiet();
    const store = new ResultStore(dir, warn);
    expect(store.latest('p.py::f')).toBeUndefined();
    expect(warnings.join('\n')).toContain('was moved to');
  });

  it('moves a folder where the snapshot goes aside, so compactions write it again and the journal stays bounded', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'state.json'), { recursive: true });
    const { warn, warnings } = quiet();
    const store = new ResultStore(dir, warn);
    expect(store.latest('p.py::f')).toBeUndefined();
    expect(warnings.join('\n')).toContain('was moved to');
    const stdout = 'x'.repeat(20_000);
    for (let i = 0; i < 80; i += 1) store.set(`f${i % 40}.py::f`, record(`r${i}`, String(i), { stdout }));
    expect(warnings.filter((warning) => warning.includes('Could not'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).version).toBe(2);
    expect(statSync(join(dir, 'journal.jsonl')).size).toBeLessThan(1 << 20);
  });

  it('stores without reading what it does not need: a write alone never reads the snapshot', () => {
    // A CLI run that only stores its result does not read (6.5 MB at 10,000 results) what it
    // never looks at: here a corrupt snapshot stays untouched until something reads.
    const dir = corruptSnapshot();
    const { warn, warnings } = quiet();
    const store = new ResultStore(dir, warn);
    store.set('p.py::f', record('a', '1'));
    store.setSoon('p.py::f', record('b', '2'));
    store.flush();
    expect(warnings).toEqual([]);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe('{not json');
    // The first read reads it all: the corrupt snapshot is moved aside, the journal's lines stand.
    expect(store.calls('p.py::f').map((entry) => entry.runId)).toEqual(['b', 'a']);
    expect(warnings.join('\n')).toContain('was moved to');
    expect(new ResultStore(dir, quiet().warn).calls('p.py::f').map((entry) => entry.runId)).toEqual(['b', 'a']);
  });

  it('loses no result when twelve processes write at once through several compactions, and a reader sees them all', async () => {
    const dir = tempDir();
    const reader = new ResultStore(dir, quiet().warn);
    const writers = Array.from({ length: 12 }, (_, writer) => promisify(execFile)(process.execPath, [CHILD, dir, String(writer), '25', '12000']));
    await Promise.all(writers);
    reader.reload();
    for (let writer = 0; writer < 12; writer += 1) expect(reader.calls(`w${writer}.py::f`), `writer ${writer}`).toHaveLength(25);
    const fresh = new ResultStore(dir, quiet().warn);
    expect([...fresh.entries()]).toHaveLength(12 * 25);
  }, 60_000);
});
