// Neovim on a project whose folder name needs URI encoding (`données (v2+)`): Neovim writes `é`
// as `%c3%a9` and keeps `(`, `)`, `+`, where the server's own URIs differ, and a submitted job's
// end must still replace its in-flight hint on the file (0.7.2 and 0.10, through setup()).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, reportMissing, type Sandbox } from './support/headless-env.js';
import { NEOVIMS, runNeovimScenario, type ScenarioResult } from './support/neovim.js';

const source = [
  'from choppa import Choppa',
  'dutch = Choppa(artifact_dir="/Volumes/main/default/jobs")',
  '',
  '@dutch.submit',
  'def train(gate):',
  '    import os, time',
  '    while not os.path.exists(gate):',
  '        time.sleep(0.02)',
  '    return 5',
  '',
].join('\n');

describe.each(NEOVIMS.filter(({ label }) => label === '0.7.2' || label === '0.10'))('Neovim $label on an encoded path', ({ label, binary }) => {
  const missing = missingEditor(binary, 'scripts/install-neovim.sh');
  if (reportMissing(missing)) return;

  let sandbox: Sandbox;
  let result: ScenarioResult;
  beforeAll(async () => {
    const base = createSandbox(`choppa-nvim-paths-${label}-`);
    const project = join(base.dir, 'données (v2+)');
    mkdirSync(project);
    writeFileSync(join(project, 'pyproject.toml'), '[project]\nname = "donnees"\n');
    writeFileSync(join(project, 'jobs.py'), source);
    sandbox = { ...base, project, file: join(project, 'jobs.py') };
    result = await runNeovimScenario(binary, sandbox, 60_000, 'neovim-paths.lua');
  }, 90_000);
  afterAll(() => sandbox?.remove());

  function step<T>(name: string): T {
    const found = result.steps.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`step "${name}" did not run (exit ${result.exitCode}):\n${result.stderr}`);
    if (!found.ok) throw new Error(`step "${name}" failed: ${String(found.detail)}\n${result.stderr}`);
    return found.detail as T;
  }

  it('attaches at the project, with a URI spelled as Neovim spells it', () => {
    const detail = step<{ root: string; uri: string }>('attach');
    expect(detail.root).toBe(sandbox.project);
    expect(detail.uri).toContain('donn%c3%a9es');
  });

  it('replaces the in-flight hint of a submitted job with its result', () => {
    const detail = step<{ status: string; result: string }>('a submitted job ends on its file');
    expect(detail.status).toBe('submitted');
    expect(detail.result).toMatch(/^train\(.*\) \[artifact\] → ArtifactRef/);
  });
});
