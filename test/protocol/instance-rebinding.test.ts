// A name bound to `Choppa(...)` twice: a decorator runs when its `def` does, so each function runs
// with the instance made above it (its artifact_dir, its cluster), as Python would; made in the
// branches of an `if` (prod or dev), or imported in a `try` with a fallback `Choppa()` in `except`,
// which one applies is decided at run time, so the run is refused rather than sent to a guessed
// cluster. Against real python3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const sequential = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa(artifact_dir="/Workspace/first")',
  '',
  '',
  '@dutch.artifact',
  'def early():',
  '    return 1',
  '',
  '',
  'dutch = Choppa(artifact_dir="/Workspace/second")',
  '',
  '',
  '@dutch.artifact',
  'def late():',
  '    return 2',
  '',
].join('\n');

const branches = [
  'import os',
  'from choppa import Choppa',
  '',
  'if os.environ.get("PROD"):',
  '    dutch = Choppa(cluster_id="0000-prod", artifact_dir="/Workspace/prod")',
  'else:',
  '    dutch = Choppa(cluster_id="1111-dev", artifact_dir="/Workspace/dev")',
  '',
  '',
  '@dutch.artifact',
  'def table():',
  '    return 3',
  '',
].join('\n');

type RunResult = { status: string; ref?: { path: string }; error?: { type: string; message: string } };

let editor: EditorClient;
let root: string;

const fallback = [
  'from choppa import Choppa',
  '',
  'try:',
  '    from .cluster import dutch',
  'except ImportError:',
  '    dutch = Choppa(artifact_dir="/Workspace/fallback")',
  '',
  '',
  '@dutch.artifact',
  'def table():',
  '    return 4',
  '',
].join('\n');

beforeAll(async () => {
  root = tempDir();
  mkdirSync(join(root, 'pkg'));
  writeFileSync(join(root, 'pkg/__init__.py'), '');
  writeFileSync(join(root, 'pkg/cluster.py'), 'from choppa import Choppa\n\ndutch = Choppa(artifact_dir="/Workspace/real")\n');
  writeFileSync(join(root, 'pkg/jobs.py'), fallback);
  editor = await EditorClient.start({ root });
});

afterAll(async () => {
  await editor.stop();
});

describe('a Choppa instance bound twice to one name', () => {
  it('runs each function with the instance made above its decorator', async () => {
    const uri = await editor.open(`${root}/sequential.py`, sequential);
    const early = await editor.executeCommand<RunResult>('choppa.runArtifact', { uri, function: 'early' });
    const late = await editor.executeCommand<RunResult>('choppa.runArtifact', { uri, function: 'late' });
    expect(early.ref?.path).toMatch(/^\/Workspace\/first\/early-/);
    expect(late.ref?.path).toMatch(/^\/Workspace\/second\/late-/);
  });

  it('refuses a function decorated with an instance made in the branches of an if, saying why', async () => {
    const uri = await editor.open(`${root}/branches.py`, branches);
    const message =
      '`dutch` is bound to a Choppa instance at lines 5 and 7, not all at the top level: which one decorates `table` is decided when the module runs, so choppa does not run it. Bind each instance to a name of its own.';
    const diagnostics = await editor.waitForDiagnostics(uri, (all) => all.some((d: Diagnostic) => d.code === 'instance-ambiguous'));
    expect(diagnostics.find((d) => d.code === 'instance-ambiguous')?.message).toBe(message);
    const result = await editor.executeCommand<RunResult>('choppa.runArtifact', { uri, function: 'table' });
    expect(result).toMatchObject({ status: 'error', error: { type: 'ChoppaError', message } });
  });

  it('refuses a function whose instance is imported in a try with a fallback Choppa() in except', async () => {
    const uri = await editor.open(join(root, 'pkg/jobs.py'), fallback);
    const result = await editor.executeCommand<RunResult>('choppa.runArtifact', { uri, function: 'table' });
    expect(result).toMatchObject({
      status: 'error',
      error: {
        type: 'ChoppaError',
        message:
          '`dutch` is bound to a Choppa instance at lines 4 and 6, not all at the top level: which one decorates `table` is decided when the module runs, so choppa does not run it. Bind each instance to a name of its own.',
      },
    });
  });
});
