// The code that runs is the code the user sees, whatever the project's layout: the CLI on the
// local backend (and the Databricks emulator) with projects laid out as real teams do (namespace
// packages, symlinked folders, modules imported by name), each run either running exactly the
// workspace's modules or refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';
import { PROJECT_FILES } from '../support/project-fixture.js';
import { startEmulator, type Emulator } from '../emulator/emulator.js';

interface RunJson {
  status: string;
  value?: { json?: unknown };
  error?: { type: string; message: string };
}

function project(files: Record<string, string>): string {
  const root = tempDir();
  mkdirSync(join(root, '.git'));
  const all = { 'choppa/__init__.py': PROJECT_FILES['choppa/__init__.py']!, ...files };
  for (const [relative, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, relative)), { recursive: true });
    writeFileSync(join(root, relative), text);
  }
  return root;
}

function cli(root: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return cliWith(root, {}, ...args);
}

function cliWith(root: string, env: NodeJS.ProcessEnv, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const result = spawnSync(process.execPath, [SERVER_BIN, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...clean, DATABRICKS_CONFIG_FILE: join(root, 'none'), HOME: root, ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function run(root: string, target: string, ...args: string[]): RunJson {
  return runWith(root, {}, target, ...args);
}

function runWith(root: string, env: NodeJS.ProcessEnv, target: string, ...args: string[]): RunJson {
  const { stdout, stderr } = cliWith(root, env, 'run', target, '--local', '--json', ...args);
  try {
    return JSON.parse(stdout) as RunJson;
  } catch {
    throw new Error(`not JSON: ${stdout}\n${stderr}`);
  }
}

const HEADER = ['from choppa import Choppa', '', 'dc = Choppa()', ''];

describe('a run that ships no project code after one that did', () => {
  it('does not see the modules of the earlier run, which may be an older version than the disk', () => {
    const root = project({
      'pkg/__init__.py': '',
      'pkg/tools.py': 'WHO = "v1"\n',
      'jobs.py': [
        ...HEADER,
        '@dc.remote',
        'def uses_tools():',
        '    from pkg import tools',
        '    return tools.WHO',
        '',
        '@dc.remote',
        'def by_name(name):',
        '    import importlib',
        '    return importlib.import_module(name).WHO',
        '',
      ].join('\n'),
    });
    expect(run(root, 'jobs.py:uses_tools')).toMatchObject({ status: 'ok', value: { json: 'v1' } });
    writeFileSync(join(root, 'pkg', 'tools.py'), 'WHO = "v2"\n');
    // A name only known at run time ships nothing: on a fresh cluster the module is not there.
    const named = run(root, 'jobs.py:by_name', '--args', '"pkg.tools"');
    expect(named.value?.json).not.toBe('v1');
    expect(named).toMatchObject({ status: 'error', error: { type: 'ModuleNotFoundError' } });
  });
});

describe('a namespace package (folders without __init__.py) in a src layout', () => {
  it('runs the workspace modules, not an older copy installed where the run goes', () => {
    const root = project({
      'pyproject.toml': '[project]\nname = "acme-data"\n\n[tool.hatch.build.targets.wheel]\npackages = ["src/acme"]\n',
      'src/acme/data/load.py': 'WHO = "workspace"\n',
      'src/acme/data/jobs.py': [
        ...HEADER,
        '@dc.remote',
        'def absolute():',
        '    from acme.data import load',
        '    return load.WHO',
        '',
        '@dc.remote',
        'def relative():',
        '    from .load import WHO',
        '    return WHO',
        '',
      ].join('\n'),
    });
    // The cluster has an older release of the same namespace package installed.
    const installed = tempDir();
    mkdirSync(join(installed, 'acme', 'data'), { recursive: true });
    writeFileSync(join(installed, 'acme', 'data', 'load.py'), 'WHO = "installed 0.9"\n');
    const env = { PYTHONPATH: installed };
    expect(runWith(root, env, 'src/acme/data/jobs.py:absolute')).toMatchObject({ status: 'ok', value: { json: 'workspace' } });
    expect(runWith(root, env, 'src/acme/data/jobs.py:relative')).toMatchObject({ status: 'ok', value: { json: 'workspace' } });
    // And without one, the run finds the package all the same.
    expect(run(root, 'src/acme/data/jobs.py:absolute')).toMatchObject({ status: 'ok', value: { json: 'workspace' } });
  });
});

describe('a package with a symlinked folder, and one with a gitignored module', () => {
  it('ships the linked code, and never lets an installed copy of the package stand in for the missing module', () => {
    const root = project({
      '.gitignore': 'app/generated.py\n',
      'app/__init__.py': '',
      'app/generated.py': 'WHO = "ignored in the workspace"\n',
      'jobs.py': [
        ...HEADER,
        '@dc.remote',
        'def linked():',
        '    from app.shared import mod',
        '    return mod.WHO',
        '',
        '@dc.remote',
        'def ignored():',
        '    from app.generated import WHO',
        '    return WHO',
        '',
      ].join('\n'),
    });
    const shared = tempDir();
    writeFileSync(join(shared, '__init__.py'), '');
    writeFileSync(join(shared, 'mod.py'), 'WHO = "linked"\n');
    symlinkSync(shared, join(root, 'app', 'shared'));
    // An older release of the project is installed where the run goes.
    const installed = tempDir();
    mkdirSync(join(installed, 'app', 'shared'), { recursive: true });
    writeFileSync(join(installed, 'app', '__init__.py'), '');
    writeFileSync(join(installed, 'app', 'generated.py'), 'WHO = "installed 0.9"\n');
    writeFileSync(join(installed, 'app', 'shared', '__init__.py'), '');
    writeFileSync(join(installed, 'app', 'shared', 'mod.py'), 'WHO = "installed 0.9"\n');
    const env = { PYTHONPATH: installed };
    expect(cli(root, 'bundle', 'jobs.py:linked').stdout).toContain('- app.shared.mod (app/shared/mod.py, 15 B)');
    expect(runWith(root, env, 'jobs.py:linked')).toMatchObject({ status: 'ok', value: { json: 'linked' } });
    const missing = runWith(root, env, 'jobs.py:ignored');
    expect(missing.value?.json).not.toBe('installed 0.9');
    expect(missing).toMatchObject({ status: 'error', error: { type: 'ModuleNotFoundError' } });
    expect(missing.error?.message).toContain('app.generated is not among the project modules shipped with this run');
    expect(cli(root, 'bundle', 'jobs.py:ignored').stdout).not.toContain('Imports the cluster must provide: app');
  });
});

describe('a module imported by a literal name (importlib.import_module, __import__)', () => {
  it('ships and runs the workspace module, not an installed copy', () => {
    const root = project({
      'plugins/__init__.py': '',
      'plugins/csv_reader.py': 'WHO = "workspace csv"\n',
      'plugins/json_reader.py': 'WHO = "workspace json"\n',
      'jobs.py': [
        ...HEADER,
        '@dc.remote',
        'def load_plugins():',
        '    import importlib',
        '    from importlib import import_module',
        '    first = importlib.import_module("plugins.csv_reader")',
        '    second = import_module("plugins.json_reader")',
        '    __import__("plugins")',
        '    return [first.WHO, second.WHO]',
        '',
      ].join('\n'),
    });
    const installed = tempDir();
    mkdirSync(join(installed, 'plugins'), { recursive: true });
    writeFileSync(join(installed, 'plugins', '__init__.py'), '');
    writeFileSync(join(installed, 'plugins', 'csv_reader.py'), 'WHO = "installed 0.9"\n');
    writeFileSync(join(installed, 'plugins', 'json_reader.py'), 'WHO = "installed 0.9"\n');
    expect(cli(root, 'bundle', 'jobs.py:load_plugins').stdout).toContain('- plugins.json_reader (plugins/json_reader.py');
    expect(runWith(root, { PYTHONPATH: installed }, 'jobs.py:load_plugins')).toMatchObject({ status: 'ok', value: { json: ['workspace csv', 'workspace json'] } });
  });
});

describe('a project whose setup.py puts its packages under lib/', () => {
  it('ships them, rather than taking them for an installed package', () => {
    const root = project({
      'setup.py': 'from setuptools import setup, find_packages\n\nsetup(\n    name="mypkg",\n    package_dir={"": "lib"},\n    packages=find_packages("lib"),\n)\n',
      'lib/mypkg/__init__.py': '',
      'lib/mypkg/util.py': 'WHO = "workspace"\n',
      'lib/mypkg/jobs.py': [...HEADER, '@dc.remote', 'def which():', '    from mypkg import util', '    return util.WHO', ''].join('\n'),
    });
    const installed = tempDir();
    mkdirSync(join(installed, 'mypkg'), { recursive: true });
    writeFileSync(join(installed, 'mypkg', '__init__.py'), '');
    writeFileSync(join(installed, 'mypkg', 'util.py'), 'WHO = "installed 0.9"\n');
    expect(runWith(root, { PYTHONPATH: installed }, 'lib/mypkg/jobs.py:which')).toMatchObject({ status: 'ok', value: { json: 'workspace' } });
  });
});

describe('a module larger than a shipped module may be', () => {
  it('is refused with its size, not said to be unreadable', () => {
    const root = project({
      'app/__init__.py': '',
      'app/tables.py': `TABLE = ${JSON.stringify('x'.repeat(3 * 1024 * 1024))}\n`,
      'jobs.py': [...HEADER, '@dc.remote', 'def lookup():', '    from app import tables', '    return len(tables.TABLE)', ''].join('\n'),
    });
    const refused = run(root, 'jobs.py:lookup');
    expect(refused).toMatchObject({ status: 'error', error: { type: 'ChoppaCodeError' } });
    expect(refused.error?.message).toContain('(module app.tables) is 3.0 MB, over the 2.0 MB a shipped module may be');
  });
});

describe('two files of one module name, each on a package root (src/utils.py and utils.py)', () => {
  it('are refused with both named, rather than one shipped by guess, also when the second is new since the last run', () => {
    const root = project({
      'src/utils.py': 'WHO = "src/utils.py"\n',
      'jobs.py': [...HEADER, '@dc.remote', 'def which():', '    import utils', '    return utils.WHO', ''].join('\n'),
    });
    // Settled files, whose bundle the warm CLI reuses while they stay as they are.
    const earlier = Date.now() / 1000 - 60;
    for (const file of ['src/utils.py', 'jobs.py']) utimesSync(join(root, file), earlier, earlier);
    expect(run(root, 'jobs.py:which')).toMatchObject({ status: 'ok', value: { json: 'src/utils.py' } });
    writeFileSync(join(root, 'utils.py'), 'WHO = "utils.py beside the job"\n');
    const refused = run(root, 'jobs.py:which');
    expect(refused).toMatchObject({ status: 'error', error: { type: 'ChoppaCodeError' } });
    expect(refused.error?.message).toContain(`module utils is 2 files of the project (${join(root, 'src', 'utils.py')}, ${join(root, 'utils.py')})`);
    expect(cli(root, 'bundle', 'jobs.py:which').stdout).toContain('Ships with which: nothing, because module utils is 2 files');
  });
});

describe('a data file a shipped module reads beside itself (__file__, importlib.resources)', () => {
  it('fails saying that only modules ship, not with a bare path into a zip', () => {
    const root = project({
      'app/__init__.py': '',
      'app/res/labels.txt': 'cat\ndog\n',
      'app/reader.py': [
        'import os',
        '',
        'def by_file():',
        '    with open(os.path.join(os.path.dirname(__file__), "res", "labels.txt")) as handle:',
        '        return handle.read().split()',
        '',
        'def by_resources():',
        '    from importlib import resources',
        '    return resources.files("app").joinpath("res/labels.txt").read_text().split()',
        '',
      ].join('\n'),
      'jobs.py': [
        ...HEADER,
        '@dc.remote',
        'def labels(how):',
        '    from app import reader',
        '    return getattr(reader, how)()',
        '',
      ].join('\n'),
    });
    for (const how of ['by_file', 'by_resources']) {
      const failed = run(root, 'jobs.py:labels', '--args', `"${how}"`);
      expect(failed).toMatchObject({ status: 'error' });
      expect(failed.error?.message).toContain('a data file beside the project\'s modules: only Python modules ship with a run');
    }
  });
});

describe('on the Databricks emulator, whose Python has an older release of the project installed', () => {
  let emulator: Emulator;
  let installed: string;

  beforeAll(async () => {
    installed = tempDir();
    mkdirSync(join(installed, 'acme', 'data'), { recursive: true });
    writeFileSync(join(installed, 'acme', 'data', 'load.py'), 'WHO = "installed 0.9"\n');
    mkdirSync(join(installed, 'plugins'), { recursive: true });
    writeFileSync(join(installed, 'plugins', '__init__.py'), '');
    writeFileSync(join(installed, 'plugins', 'csv_reader.py'), 'WHO = "installed 0.9"\n');
    const python = join(installed, 'python');
    writeFileSync(python, `#!/bin/sh\nPYTHONPATH=${installed} exec python3 "$@"\n`);
    chmodSync(python, 0o755);
    emulator = await startEmulator({ pythonPath: python });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  // The emulator answers from this process, so the CLI runs asynchronously.
  function runOnCluster(root: string, target: string): Promise<RunJson> {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
    const env = { ...clean, HOME: root, DATABRICKS_CONFIG_FILE: join(root, 'none'), DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CLUSTER_ID: '0123-456789-emulator' };
    const child = spawn(process.execPath, [SERVER_BIN, 'run', target, '--json'], { cwd: root, env });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    return new Promise((resolve) => child.on('close', () => resolve(JSON.parse(stdout) as RunJson)));
  }

  it('runs the namespace package and the module imported by name from the workspace', async () => {
    const root = project({
      'pyproject.toml': '[project]\nname = "acme-data"\n',
      'src/acme/data/load.py': 'WHO = "workspace"\n',
      'src/acme/data/jobs.py': [...HEADER, '@dc.remote', 'def absolute():', '    from acme.data import load', '    return load.WHO', ''].join('\n'),
      'plugins/__init__.py': '',
      'plugins/csv_reader.py': 'WHO = "workspace"\n',
      'jobs.py': [...HEADER, '@dc.remote', 'def by_name():', '    import importlib', '    return importlib.import_module("plugins.csv_reader").WHO', ''].join('\n'),
    });
    expect(await runOnCluster(root, 'src/acme/data/jobs.py:absolute')).toMatchObject({ status: 'ok', value: { json: 'workspace' } });
    expect(await runOnCluster(root, 'jobs.py:by_name')).toMatchObject({ status: 'ok', value: { json: 'workspace' } });
  });
});
