// Which partial downloads a later download removes: those whose writer is gone (a real process
// that exited), or that predate this process under its own pid, or that nobody wrote for a day;
// never one a live process (another, or this one) may still be writing, nor anything else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { partialPath, removeAbandonedPartials } from '../../server/src/backends/partial-files.js';
import { tempDir } from '../support/lsp-client.js';

let live: ChildProcess;
let deadPid: number;

beforeAll(() => {
  live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  deadPid = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
});
afterAll(() => {
  live.kill();
});

/** Writes `files` into a fresh folder, sweeps it, and returns what is left. */
async function check(files: Array<{ name: string; ageMs?: number }>): Promise<string[]> {
  const folder = tempDir();
  for (const { name, ageMs } of files) {
    const path = join(folder, name);
    writeFileSync(path, 'partial');
    if (ageMs !== undefined) utimesSync(path, (Date.now() - ageMs) / 1000, (Date.now() - ageMs) / 1000);
  }
  await removeAbandonedPartials(folder);
  return readdirSync(folder).sort();
}

describe('removeAbandonedPartials', () => {
  it('removes only the partial files no live process may be writing', async () => {
    const now = Date.now();
    const started = Math.floor(performance.timeOrigin);
    const names = {
      dead: `a.pkl.1a2b3c4d.part.part-${deadPid}-${now}`,
      live: `b.pkl.1a2b3c4d.part.part-${live.pid}-${now}`,
      liveButUntouchedForADay: `c.pkl.1a2b3c4d.part.part-${live.pid}-${now - 2 * 86_400_000}`,
      ours: partialPath(join('/x', 'd.pkl.1a2b3c4d.part')).slice('/x/'.length),
      oursBeforeThisProcess: `e.pkl.1a2b3c4d.part.part-${process.pid}-${started - 60_000}`,
      artifact: 'f.pkl',
      preview: 'f.pkl.preview.md',
      notOurs: 'notes.part-12',
    };
    const kept = await check([
      { name: names.dead },
      { name: names.live },
      { name: names.liveButUntouchedForADay, ageMs: 25 * 3_600_000 },
      { name: names.ours },
      { name: names.oursBeforeThisProcess },
      { name: names.artifact },
      { name: names.preview },
      { name: names.notOurs },
    ]);
    expect(kept).toEqual([names.live, names.ours, names.artifact, names.preview, names.notOurs].sort());
  });

  it('says nothing and removes nothing when the folder is not there', async () => {
    expect(await removeAbandonedPartials(join(tempDir(), 'absent'))).toEqual([]);
  });
});
