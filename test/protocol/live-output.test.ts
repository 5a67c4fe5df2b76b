// Live output over the wire: lines reach the run log and the progress while the run is still
// running (the function waits for a file the test writes only after seeing its first line),
// output printed before an exception is kept, runs proceed in parallel, and the log opens.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EditorClient, useEditor } from '../support/lsp-client.js';

const workspace = useEditor();

const text = (gate: string): string =>
  [
    'from choppa import Choppa',
    'dutch = Choppa()',
    '',
    '@dutch.remote',
    'def waits(gate, name):',
    '    import os, time',
    '    print(f"{name} started", flush=True)',
    '    while not os.path.exists(gate):',
    '        time.sleep(0.01)',
    '    print(f"{name} saw the gate")',
    '    return name',
    '',
    '@dutch.remote',
    'def talks_then_fails():',
    '    print("step 1 done")',
    '    print("step 2 done")',
    '    raise RuntimeError("step 3 broke")',
    '',
    `GATE = ${JSON.stringify(gate)}`,
    '',
  ].join('\n');

interface RunResult {
  status: string;
  value?: { json?: unknown };
  error?: { type: string; message: string; line?: number };
  stdout?: string;
  logPath?: string;
}

describe('live output', () => {
  it('reaches the log and the progress before the run finishes, and two runs proceed in parallel', async () => {
    const { editor, root } = workspace;
    const gate = join(root, 'gate');
    const uri = await editor.open(join(root, 'live.py'), text(gate));
    const first = editor.executeCommand<RunResult>('choppa.run', { uri, function: 'waits', args: `${JSON.stringify(gate)}, "first"` });
    const second = editor.executeCommand<RunResult>('choppa.run', { uri, function: 'waits', args: `${JSON.stringify(gate)}, "second"` });
    // Both print before the gate exists: they must be running at the same time.
    await editor.waitForProgress((value) => (value as { message?: string }).message?.includes('first started') === true);
    await editor.waitForProgress((value) => (value as { message?: string }).message?.includes('second started') === true);
    const listed = await editor.executeCommand<{ running: Array<{ function: string; logPath: string }> }>('choppa.listRuns', { uri });
    expect(listed.running.map((run) => run.function)).toEqual(['waits', 'waits']);
    const logs = listed.running.map((run) => run.logPath);
    for (const log of logs) expect(readFileSync(log, 'utf8')).toMatch(/(first|second) started/);
    const shown = await editor.executeCommand<{ path: string }>('choppa.showLog', { uri, function: 'waits' });
    expect(logs).toContain(shown.path);
    expect(editor.shownDocuments.map((d) => fileURLToPath(d))).toContain(shown.path);

    writeFileSync(gate, 'go');
    const [a, b] = await Promise.all([first, second]);
    expect([a.value?.json, b.value?.json].sort()).toEqual(['first', 'second']);
    expect(readFileSync(a.logPath!, 'utf8')).toMatch(/started\n.*saw the gate\n# finished/);
  });

  it('keeps the output printed before an exception, in the result and in the log', async () => {
    const { editor, root } = workspace;
    const uri = await editor.open(join(root, 'fails.py'), text(join(root, 'unused')));
    const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'talks_then_fails' });
    expect(result.error).toMatchObject({ type: 'RuntimeError', message: 'step 3 broke', line: 16 });
    expect(result.stdout).toBe('step 1 done\nstep 2 done\n');
    const log = readFileSync(result.logPath!, 'utf8');
    expect(log).toContain('step 1 done\nstep 2 done\n');
    expect(log).toContain('raised RuntimeError: step 3 broke');
  });

  it('queues runs beyond choppa.runs.maxParallel, saying so in the progress', async () => {
    const root = workspace.root;
    const gate = join(root, 'queue-gate');
    const limited = await EditorClient.start({ root, configuration: { runs: { maxParallel: 1 } } });
    try {
      const uri = await limited.open(join(root, 'queued.py'), text(gate));
      const first = limited.executeCommand<RunResult>('choppa.run', { uri, function: 'waits', args: `${JSON.stringify(gate)}, "one"` });
      await limited.waitForProgress((value) => (value as { message?: string }).message?.includes('one started') === true);
      const second = limited.executeCommand<RunResult>('choppa.run', { uri, function: 'waits', args: `${JSON.stringify(gate)}, "two"` });
      await limited.waitForProgress((value) => (value as { message?: string }).message?.includes('queued behind 1 run') === true);
      writeFileSync(gate, 'go');
      expect((await first).value?.json).toBe('one');
      expect((await second).value?.json).toBe('two');
    } finally {
      await limited.stop();
    }
  });
});
