// Editors with several workspace folders (VS Code multi-root, Neovim with two roots): each folder
// is its own project, with its own `.choppa/` and its own module names, so a result or a module
// of one never shows up in, or ships with, the other.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hover } from 'vscode-languageserver-protocol';
import { EditorClient, positionOf, RICH_CAPABILITIES, tempDir } from '../support/lsp-client.js';

interface RunResult {
  status: string;
  value?: { repr: string };
  logPath?: string;
}

const jobs = ['from choppa import Choppa', 'dutch = Choppa()', '', '@dutch.remote', 'def f():', '    import helpers', '    return helpers.val()', '', 'f()', ''].join('\n');

/** Two folders `a` and `b`, each a project with its own `helpers.py` and the same `jobs.py`. */
function twoProjects(): { a: string; b: string } {
  const base = tempDir();
  const a = join(base, 'a');
  const b = join(base, 'b');
  for (const [folder, name] of [[a, 'A'], [b, 'B']] as const) {
    mkdirSync(folder);
    writeFileSync(join(folder, 'helpers.py'), `def val():\n    return "from ${name}"\n`);
    writeFileSync(join(folder, 'jobs.py'), jobs);
  }
  return { a, b };
}

const hoverText = async (editor: EditorClient, uri: string, needle: string): Promise<string> => {
  const hover = await editor.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: positionOf(jobs, needle) });
  return hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
};

describe('two workspace folders with the same file and module names', () => {
  it('ships each folder its own modules and keeps each result on its own file', async () => {
    const { a, b } = twoProjects();
    const editor = await EditorClient.start({ root: a, folders: [a, b] });
    try {
      const uriA = await editor.open(join(a, 'jobs.py'), jobs);
      const uriB = await editor.open(join(b, 'jobs.py'), jobs);
      await editor.waitForDiagnostics(uriB);
      // The second folder's `import helpers` is its own helpers.py, not the first folder's.
      const ranB = await editor.executeCommand<RunResult>('choppa.run', { uri: uriB, function: 'f' });
      expect(ranB.status).toBe('ok');
      expect(ranB.value?.repr).toBe("'from B'");
      expect(ranB.logPath?.startsWith(join(b, '.choppa'))).toBe(true);
      await editor.waitForDiagnostics(uriB, (all) => all.some((d) => d.code === 'run-result' && String(d.message).includes("'from B'")));
      const ranA = await editor.executeCommand<RunResult>('choppa.run', { uri: uriA, function: 'f' });
      expect(ranA.value?.repr).toBe("'from A'");
      await editor.waitForDiagnostics(uriA, (all) => all.some((d) => d.code === 'run-result' && String(d.message).includes("'from A'")));
      // Each file keeps its own result, in its own folder's state.
      expect(editor.lastDiagnostics(uriB).filter((d) => d.code === 'run-result').map((d) => d.message)).toEqual([expect.stringContaining("'from B'")]);
      expect(await hoverText(editor, uriB, 'f()\n')).toContain('from B');
      expect(existsSync(join(a, '.choppa', 'state.json')) || existsSync(join(a, '.choppa', 'journal.jsonl'))).toBe(true);
      expect(existsSync(join(b, '.choppa', 'state.json')) || existsSync(join(b, '.choppa', 'journal.jsonl'))).toBe(true);
    } finally {
      await editor.stop();
    }
  });
});

describe('a workspace folder reached through a symbolic link', () => {
  it('keeps the runs of a file opened through the other path in the folder\'s own state', async () => {
    const base = tempDir();
    const real = join(base, 'real');
    mkdirSync(real);
    const link = join(base, 'link');
    symlinkSync(real, link);
    writeFileSync(join(real, 'helpers.py'), 'def val():\n    return "helped"\n');
    writeFileSync(join(real, 'jobs.py'), jobs);
    // The folder is opened through the link; a tool (a definition jump, a terminal) opens the file by its real path.
    const editor = await EditorClient.start({ root: link });
    try {
      const viaReal = await editor.open(join(real, 'jobs.py'), jobs);
      await editor.waitForDiagnostics(viaReal);
      const ran = await editor.executeCommand<RunResult>('choppa.run', { uri: viaReal, function: 'f' });
      expect(ran.value?.repr).toBe("'helped'");
      // Before, the run went to a cache folder of the user's, and the project's file showed nothing.
      expect(ran.logPath?.startsWith(join(link, '.choppa'))).toBe(true);
      await editor.close(viaReal);
      const viaLink = await editor.open(join(link, 'jobs.py'), jobs);
      const shown = await editor.waitForDiagnostics(viaLink, (all) => all.some((d) => d.code === 'run-result'));
      expect(shown.find((d) => d.code === 'run-result')?.message).toMatch(/^f\(\) → 'helped'/);
    } finally {
      await editor.stop();
    }
  });
});

describe('a command given only a run id', () => {
  it('finds the run in whichever folder it was started from', async () => {
    const { a, b } = twoProjects();
    const gate = join(b, 'gate');
    const source = ['from choppa import Choppa', 'dutch = Choppa(artifact_dir="/Volumes/main/default/jobs")', '', '@dutch.submit', 'def train(gate):', '    import os, time', '    while not os.path.exists(gate):', '        time.sleep(0.02)', '    return 1', ''].join('\n');
    writeFileSync(join(b, 'train.py'), source);
    const editor = await EditorClient.start({ root: a, folders: [a, b] });
    try {
      const uri = await editor.open(join(b, 'train.py'), source);
      const handle = await editor.executeCommand<{ status: string; id: string }>('choppa.submit', { uri, function: 'train', args: JSON.stringify(gate) });
      expect(handle.status).toBe('submitted');
      // Before, the second folder's job was looked for in the first folder: "no run of it in flight".
      const cancelled = await editor.executeCommand<{ cancelled: boolean; message: string }>('choppa.cancel', { id: handle.id });
      expect(cancelled).toMatchObject({ cancelled: true });
      await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-cancelled'));
    } finally {
      writeFileSync(gate, 'go');
      await editor.stop();
    }
  });
});

describe('folders removed and added while the editor runs', () => {
  it('stops the removed folder\'s Python, and shows its results again when it comes back', async () => {
    const { a, b } = twoProjects();
    const source = ['from choppa import Choppa', 'dutch = Choppa()', '', '@dutch.remote', 'def pid():', '    import os', '    return os.getpid()', ''].join('\n');
    writeFileSync(join(a, 'pid.py'), source);
    const capabilities = { ...RICH_CAPABILITIES, workspace: { ...RICH_CAPABILITIES.workspace, workspaceFolders: true } };
    const editor = await EditorClient.start({ root: a, folders: [a, b], capabilities });
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      const uri = await editor.open(join(a, 'pid.py'), source);
      await editor.waitForDiagnostics(uri);
      const ran = await editor.executeCommand<{ value?: { json?: number } }>('choppa.run', { uri, function: 'pid' });
      const python = ran.value!.json!;
      expect(alive(python)).toBe(true);
      const folder = { uri: editor.uri(a), name: 'folder0' };
      await editor.connection.sendNotification('workspace/didChangeWorkspaceFolders', { event: { added: [], removed: [folder] } });
      // Before, the removed folder's interpreter lived on until the server ended.
      while (alive(python)) await new Promise((done) => setTimeout(done, 50));
      await editor.connection.sendNotification('workspace/didChangeWorkspaceFolders', { event: { added: [folder], removed: [] } });
      const shown = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result'));
      expect(shown.find((d) => d.code === 'run-result')?.message).toContain(`pid() → ${python}`);
    } finally {
      await editor.stop();
    }
  });
});
