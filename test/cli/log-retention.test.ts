// `.choppa/logs/` stays bounded: each run writes a log, and a log goes once no kept result names
// its run and it has not been written for an hour, at the store's compactions. Run as a user
// does, through the CLI, many times; old logs are made old by their timestamps.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';

let project: string;

const source = ['from choppa import Choppa', '', 'dutch = Choppa()', '', '', '@dutch.remote', 'def chatty(n):', '    print("x" * 20000)', '    return n', ''].join('\n');

async function run(n: number): Promise<{ runId: string; logPath: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const { stdout } = await promisify(execFile)(process.execPath, [SERVER_BIN, 'run', 'jobs.py:chatty', '--args', String(n), '--json'], {
    cwd: project,
    encoding: 'utf8',
    env: { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: join(project, 'none.cfg') },
    maxBuffer: 10 * 1024 * 1024,
  });
  return JSON.parse(stdout) as { runId: string; logPath: string };
}

function age(path: string, hours: number): void {
  const when = new Date(Date.now() - hours * 3600_000);
  utimesSync(path, when, when);
}

beforeAll(() => {
  project = tempDir();
  mkdirSync(join(project, '.git'));
  writeFileSync(join(project, 'jobs.py'), source);
});

describe('run logs', () => {
  it('go when no kept result names their run and they are an hour old; the others stay', async () => {
    const first = await run(1);
    const logs = join(project, '.choppa', 'logs');
    expect(existsSync(first.logPath)).toBe(true);
    // Logs of runs nobody remembers (a store reset, runs forgotten long ago), an hour old and more.
    for (let i = 0; i < 5; i += 1) {
      writeFileSync(join(logs, `chatty-forgotten${i}.log`), 'old output\n');
      age(join(logs, `chatty-forgotten${i}.log`), 2);
    }
    // One just written (another process's run whose record is not in yet) stays, as does the
    // first run's log however old: its result is still kept.
    writeFileSync(join(logs, 'chatty-elsewhere.log'), 'in flight\n');
    age(first.logPath, 5);
    const journal = join(project, '.choppa', 'journal.jsonl');
    let compacted = false;
    for (let n = 2; n < 60 && !compacted; n += 1) {
      const before = statSync(journal).size;
      await run(n);
      // A compaction starts a new journal: it shrinks.
      compacted = statSync(journal).size < before;
    }
    expect(compacted).toBe(true);
    const left = readdirSync(logs);
    expect(left.filter((name) => name.startsWith('chatty-forgotten'))).toEqual([]);
    expect(left).toContain('chatty-elsewhere.log');
    expect(existsSync(first.logPath)).toBe(true);
    expect(readFileSync(first.logPath, 'utf8')).toContain('x'.repeat(20000));
  }, 120_000);
});
