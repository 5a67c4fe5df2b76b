// The CLI on a multi-package project, as a user runs it from the project folder: `list` sees the
// instance imported from another module, `bundle` prints what ships with a function, and `run`
// runs it with that code on the local backend.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';
import { PROJECT_FILES, writeProject } from '../support/project-fixture.js';
import { buildWheel } from '../support/wheel.js';

let project: string;

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return cliIn(project, {}, ...args);
}

function cliIn(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const result = spawnSync(process.execPath, [SERVER_BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...clean, DATABRICKS_CONFIG_FILE: join(cwd, 'none'), HOME: cwd, ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  project = tempDir();
  writeProject(project);
  mkdirSync(join(project, '.git'));
});

describe('the CLI on a project of several modules', () => {
  it('lists functions decorated through an imported instance, with its settings', () => {
    const { code, stdout } = cli('list', 'analytics/jobs.py');
    expect(code).toBe(0);
    expect(stdout).toContain('instance  dc  from analytics.cluster (analytics/cluster.py:3)  cluster_id=0123-456789-abcdefgh');
    expect(stdout).toMatch(/remote\s+vocabulary\(text\)\s+line 8\s+@dc/);
    expect(stdout).not.toContain('no Choppa-decorated functions');
  });

  it('prints what ships with a function, and JSON on request', () => {
    const { code, stdout } = cli('bundle', 'analytics/reports/summary.py:summary');
    expect(code).toBe(0);
    expect(stdout).toContain('Ships with summary: 6 project modules');
    expect(stdout).toContain('- analytics.reports.helpers (analytics/reports/helpers.py, 110 B)');
    const json = JSON.parse(cli('bundle', 'analytics/jobs.py:vocabulary', '--json').stdout) as { hash: string; path: string; files: { module: string }[] };
    expect(json.files.map((file) => file.module).sort()).toEqual(['analytics', 'analytics.cluster', 'analytics.text_tools', 'choppa']);
    expect(json.path).toBe(`/Workspace/Shared/analytics/.choppa/code/${json.hash}.zip`);
    expect(cli('bundle', 'analytics/jobs.py:plain').stdout).toContain('its source only');
  });

  it('runs a function with the project modules it imports', () => {
    const { code, stdout } = cli('run', 'analytics/jobs.py:counted', '--local', '--args', '"A b a"');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^counted\("A b a"\) → 2 · /);
  });

  it('runs a function importing from a namespace package (a folder without __init__.py), as Python does locally', () => {
    mkdirSync(join(project, 'loose', 'tools'), { recursive: true });
    writeFileSync(join(project, 'loose', 'tools', 'scale.py'), 'def twice(x):\n    return 2 * x\n');
    writeFileSync(
      join(project, 'loose_jobs.py'),
      ['from choppa import Choppa', '', 'dc = Choppa()', '', '@dc.remote', 'def doubled(x):', '    from loose.tools import scale', '    return scale.twice(x)', ''].join('\n'),
    );
    expect(cli('bundle', 'loose_jobs.py:doubled').stdout).toContain('- loose.tools.scale (loose/tools/scale.py');
    const { code, stdout, stderr } = cli('run', 'loose_jobs.py:doubled', '--local', '--args', '21');
    expect(stderr).not.toContain('ModuleNotFoundError');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^doubled\(21\) → 42 · /);
  });

  it('says why a project module imported by name at run time is not found where the function runs', () => {
    writeFileSync(
      join(project, 'dynamic_jobs.py'),
      ['from choppa import Choppa', '', 'dc = Choppa()', '', '@dc.remote', 'def by_name(kind):', '    import importlib', '    return importlib.import_module("analytics." + kind).__name__', ''].join('\n'),
    );
    const { code, stdout } = cli('run', 'dynamic_jobs.py:by_name', '--local', '--args', "'text_tools'");
    expect(code).toBe(1);
    expect(stdout).toContain(
      "ModuleNotFoundError: No module named 'analytics': analytics is a module of this project, but only the project modules a function imports with an import statement in its body ship with it (a module named at run time",
    );
    expect(stdout).toContain('import what it needs with an import statement in the function (`import analytics…` or `from analytics import …`)');
  });
});

describe('the CLI on a project outside git', () => {
  it('keeps one .choppa/ at the pyproject.toml folder and installs the requirements declared there', () => {
    const outside = tempDir();
    const wheels = join(outside, 'wheels');
    buildWheel(wheels);
    writeFileSync(join(outside, 'pyproject.toml'), '[project]\nname = "scoring"\ndependencies = ["tinypkg[fast]==0.1"]\n\n[tool.setuptools.packages.find]\nwhere = ["src"]\n');
    mkdirSync(join(outside, 'src', 'scoring'), { recursive: true });
    mkdirSync(join(outside, 'src', 'choppa'), { recursive: true });
    writeFileSync(join(outside, 'src', 'choppa', '__init__.py'), PROJECT_FILES['choppa/__init__.py']!);
    writeFileSync(join(outside, 'src', 'scoring', '__init__.py'), '');
    writeFileSync(join(outside, 'src', 'scoring', 'jobs.py'), ['from choppa import Choppa', '', 'dc = Choppa()', '', '@dc.remote', 'def tiny():', '    import tinypkg', '    return tinypkg.VALUE', ''].join('\n'));
    const { code, stdout, stderr } = cliIn(outside, { PIP_CONFIG_FILE: '/dev/null', PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels }, 'run', 'src/scoring/jobs.py:tiny', '--json');
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(stdout)).toMatchObject({ status: 'ok', value: { json: 'tiny from a wheel' } });
    expect(existsSync(join(outside, '.choppa'))).toBe(true);
    expect(existsSync(join(outside, 'src', 'scoring', '.choppa'))).toBe(false);
  });
});

describe('arguments the runner cannot make', () => {
  it('are refused and reported, and leave no result on the function to show until its next run', () => {
    const refused = cli('run', 'analytics/jobs.py:vocabulary', '--args', 'open("x").read()', '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 'error', error: { type: 'ChoppaArgumentError' } });
    const journal = join(project, '.choppa', 'journal.jsonl');
    const stored = existsSync(journal) ? readFileSync(journal, 'utf8') : '';
    expect(stored).not.toContain('open(\\"x\\").read()');
    expect(stored).not.toContain('ChoppaArgumentError');
  });
});

describe('an exception without a message', () => {
  it('is said by its type alone, without an empty ": "', () => {
    writeFileSync(join(project, 'bare.py'), ['from choppa import Choppa', 'dc = Choppa()', '', '@dc.remote', 'def bare():', '    raise ValueError()', ''].join('\n'));
    const { code, stdout } = cli('run', 'bare.py:bare');
    expect(code).toBe(1);
    expect(stdout.split('\n')[0]).toBe('error: ValueError (bare.py:6)');
  });
});

