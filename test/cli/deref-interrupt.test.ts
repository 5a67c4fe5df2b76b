// `choppa-lsp deref` interrupted part-way through a download from the emulator, as a user does it:
// Ctrl-C cancels it, says so and keeps nothing; a deref killed outright leaves its partial file,
// which the next deref into the folder removes, while the one another deref is writing stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';

/** The Files API download of the artifact's pickle (not its `.json` sidecar). */
const PICKLE = { method: 'GET', path: /^\/api\/2\.0\/fs\/files\/Volumes\/main\/default\/qa\/blob-[^/]+\.pkl$/ };
const MB = 1024 * 1024;

interface Started {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  closed: Promise<number | null>;
}

let emulator: Emulator;
let project: string;

beforeAll(async () => {
  emulator = await startEmulator();
  project = tempDir();
  mkdirSync(join(project, '.git'));
  writeFileSync(
    join(project, 'art.py'),
    ['from choppa import Choppa', 'dutch = Choppa(artifact_dir="/Volumes/main/default/qa")', '', '@dutch.artifact', 'def blob(mb):', '    import os', '    return os.urandom(mb * 1024 * 1024)', ''].join('\n'),
  );
  const made = cli('artifact', 'art.py:blob', '--args', '4');
  expect(await made.closed, made.stderr).toBe(0);
});
afterAll(async () => {
  await emulator.stop();
});

function cli(...args: string[]): Started {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const child = spawn(process.execPath, [SERVER_BIN, ...args], {
    cwd: project,
    env: { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'), DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID },
  });
  const started: Started = { child, stdout: '', stderr: '', closed: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
  child.stdout!.on('data', (chunk: Buffer) => (started.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (started.stderr += chunk.toString()));
  return started;
}

/** A deref whose download stalls after its first megabyte, once it has written that and said so. */
async function stalledDeref(): Promise<Started> {
  emulator.faults.stallBody(PICKLE, MB);
  const deref = cli('deref', 'art.py:blob');
  await new Promise<void>((resolve, reject) => {
    const look = (): void => {
      if (/… downloading \S+ \(.+ of 4\.0 MB\)\n/.test(deref.stderr)) resolve();
    };
    deref.child.stderr!.on('data', look);
    void deref.closed.then(() => reject(new Error(`deref ended before downloading: ${deref.stderr}`)));
  });
  return deref;
}

function artifactFiles(): string[] {
  return readdirSync(join(project, '.choppa', 'artifacts')).sort();
}

function partialFiles(): string[] {
  return artifactFiles().filter((name) => /\.part-\d+-\d+$/.test(name));
}

describe('choppa-lsp deref interrupted', () => {
  it('Ctrl-C cancels the download, says nothing was kept in one line, exits 130 and leaves no partial file', async () => {
    const deref = await stalledDeref();
    expect(partialFiles()).toHaveLength(1);
    deref.child.kill('SIGINT');
    expect(await deref.closed).toBe(130);
    const said = deref.stderr.split('\n').filter((line) => line.includes('cancelled'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^choppa-lsp deref: the download of \/Volumes\/main\/default\/qa\/blob-\S+\.pkl was cancelled; nothing was kept$/);
    expect(deref.stdout).toBe('');
    expect(artifactFiles()).toEqual([]);
  });

  it('a deref killed outright leaves a partial file that the next deref removes, but not the one a running deref writes', async () => {
    const before = partialFiles();
    const killed = await stalledDeref();
    killed.child.kill('SIGKILL');
    await killed.closed;
    const left = partialFiles().filter((name) => !before.includes(name));
    expect(left).toHaveLength(1);

    const running = await stalledDeref();
    const writing = partialFiles().filter((name) => !before.includes(name) && !left.includes(name));
    expect(writing).toHaveLength(1);
    const done = cli('deref', 'art.py:blob');
    expect(await done.closed, done.stderr).toBe(0);
    const pickle = done.stdout.split('\n')[0]!;
    expect(partialFiles()).toEqual(writing);

    running.child.kill('SIGINT');
    expect(await running.closed).toBe(130);
    expect(artifactFiles()).toEqual([pickle, `${pickle}.preview.md`].map((path) => path.slice(path.lastIndexOf('/') + 1)).sort());
  });
});
