// Requirements, offline: a tiny package built into a wheel here, declared in requirements.txt with
// `--no-index --find-links`, is pip-installed into a folder keyed by the hash of the lines the
// first time a run needs it, and reused by later runs; a run that imports only what is already
// there installs nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction } from 'vscode-languageserver-protocol';
import { EditorClient, tempDir } from '../support/lsp-client.js';
import { buildWheel } from '../support/wheel.js';

const JOBS = [
  'from choppa import Choppa',
  '',
  'dc = Choppa()',
  '',
  '@dc.remote',
  'def plain():',
  '    import json',
  '    return json.dumps([1])',
  '',
  '@dc.remote',
  'def tiny():',
  '    import tinypkg',
  '    return tinypkg.VALUE',
  '',
  '@dc.remote',
  'def lacking():',
  '    import tinypkg',
  '    import choppa_not_installed_anywhere.sub',
  '    return 1',
  '',
  '@dc.remote',
  'def guarded():',
  '    try:',
  '        import choppa_optional_speedup as fast',
  '    except (ImportError, OSError):',
  '        fast = None',
  '    import choppa_needed_anyway',
  '    return fast',
  '',
].join('\n');

interface RunResult {
  status: string;
  value?: { json?: unknown };
  error?: { type: string; message: string };
}

let root: string;
let editor: EditorClient;
let uri: string;
const installed = (): string => join(root, '.choppa', 'fs', '.choppa-requirements');

beforeAll(async () => {
  root = tempDir();
  const wheels = join(root, 'wheels');
  buildWheel(wheels);
  writeFileSync(join(root, 'requirements.txt'), `# offline\n--no-index\n--find-links ${wheels}\ntinypkg==0.1\n`);
  editor = await EditorClient.start({ root, env: { DATABRICKS_CONFIG_FILE: join(root, 'none'), PIP_CONFIG_FILE: '/dev/null' } });
  uri = await editor.open(join(root, 'jobs.py'), JOBS);
});
afterAll(async () => {
  await editor.stop();
});

describe('requirements of the project', () => {
  it('installs nothing for a run whose imports are already there', async () => {
    expect(await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'plain' })).toMatchObject({ status: 'ok', value: { json: '[1]' } });
    expect(existsSync(installed())).toBe(false);
  });

  it('installs the declared requirements once, keyed by the hash of their lines, and reuses them', async () => {
    const first = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'tiny' });
    expect(first).toMatchObject({ status: 'ok', value: { json: 'tiny from a wheel' } });
    const lines = ['--no-index', `--find-links ${join(root, 'wheels')}`, 'tinypkg==0.1'];
    const hash = createHash('sha256').update(lines.join('\n')).digest('hex');
    expect(readdirSync(installed())).toEqual([hash]);
    const marker = join(installed(), hash, '.choppa-complete');
    const installedAt = statSync(marker).mtimeMs;
    const second = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'tiny' });
    expect(second).toMatchObject({ status: 'ok', value: { json: 'tiny from a wheel' } });
    expect(readdirSync(installed())).toEqual([hash]);
    expect(statSync(marker).mtimeMs).toBe(installedAt);
  });

  it('warns on the import line of a module the backend lacks and no requirement declares, with a quick fix', async () => {
    const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'lacking' });
    expect(result.error?.type).toBe('ModuleNotFoundError');
    const diagnostics = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'missing-import'));
    const warnings = diagnostics.filter((d) => d.code === 'missing-import');
    expect(warnings.map((d) => [d.severity, d.range.start.line])).toEqual([[2, JOBS.split('\n').indexOf('    import choppa_not_installed_anywhere.sub')]]);
    expect(String(warnings[0]?.message)).toMatch(/^`choppa_not_installed_anywhere` cannot be imported on local python[\d.]+ \(checked before the last run of lacking\)/);
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: warnings[0]!.range,
      context: { diagnostics: warnings },
    });
    const fix = actions.find((action) => action.title === 'Add `choppa_not_installed_anywhere` to requirements.txt');
    const requirementsUri = editor.uri(join(root, 'requirements.txt'));
    expect(fix?.edit?.changes?.[requirementsUri]?.[0]?.newText).toBe('choppa_not_installed_anywhere\n');
  });

  it('does not warn on an import the code guards with `except ImportError`, which it goes on without', async () => {
    const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'guarded' });
    expect(result.error?.message).toBe("No module named 'choppa_needed_anyway'");
    const diagnostics = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'missing-import' && String(d.message).includes('guarded')));
    const lines = JOBS.split('\n');
    const warned = diagnostics.filter((d) => d.code === 'missing-import' && String(d.message).includes('last run of guarded')).map((d) => lines[d.range.start.line]);
    expect(warned).toEqual(['    import choppa_needed_anyway']);
  });

  it('adds the distribution pip installs for an import named otherwise (scikit-learn for sklearn)', async () => {
    // The diagnostic as the client sends it back with the request; the module is in its data.
    const warning = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 14 } }, code: 'missing-import', source: 'choppa', message: '`sklearn` cannot be imported', data: { module: 'sklearn' } };
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: warning.range, context: { diagnostics: [warning] } });
    const fix = actions.find((action) => action.kind === 'quickfix');
    expect(fix?.title).toBe('Add `scikit-learn` to requirements.txt');
    expect(fix?.edit?.changes?.[editor.uri(join(root, 'requirements.txt'))]?.[0]?.newText).toBe('scikit-learn\n');
  });

  it('says what pip said when a requirement cannot be installed', async () => {
    writeFileSync(join(root, 'requirements.txt'), `--no-index\n--find-links ${join(root, 'wheels')}\ntinypkg==0.1\nnot-there-at-all==9\n`);
    await editor.stop();
    editor = await EditorClient.start({ root, env: { DATABRICKS_CONFIG_FILE: join(root, 'none'), PIP_CONFIG_FILE: '/dev/null' } });
    uri = await editor.open(join(root, 'jobs.py'), JOBS.replace('tinypkg', 'tinypkg_missing'));
    const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'tiny' });
    expect(result.status).toBe('error');
    expect(result.error?.type).toBe('ChoppaRequirementsError');
    expect(result.error?.message).toContain('not-there-at-all');
  });
});

describe('requirements declared in pyproject.toml', () => {
  let project: string;
  let client: EditorClient;
  let jobs: string;
  const pyproject = ['[project]', 'name = "analytics"', 'dependencies = [', '    "tinypkg[fast]==0.1",  # extras end in a bracket of their own', ']', ''].join('\n');

  beforeAll(async () => {
    project = tempDir();
    const wheels = join(project, 'wheels');
    buildWheel(wheels);
    writeFileSync(join(project, 'pyproject.toml'), pyproject);
    // pip's own variables, as a team sets them for a private index; pyproject.toml holds no options.
    client = await EditorClient.start({ root: project, env: { DATABRICKS_CONFIG_FILE: join(project, 'none'), PIP_CONFIG_FILE: '/dev/null', PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels } });
    jobs = await client.open(join(project, 'jobs.py'), JOBS);
  });
  afterAll(async () => {
    await client.stop();
  });

  it('installs a dependency written with extras', async () => {
    const result = await client.executeCommand<RunResult>('choppa.run', { uri: jobs, function: 'tiny' });
    expect(result).toMatchObject({ status: 'ok', value: { json: 'tiny from a wheel' } });
  });

  it('adds a missing module to [project] dependencies, not to a new requirements.txt that would hide them', async () => {
    await client.executeCommand<RunResult>('choppa.run', { uri: jobs, function: 'lacking' });
    const diagnostics = await client.waitForDiagnostics(jobs, (all) => all.some((d) => d.code === 'missing-import'));
    const warnings = diagnostics.filter((d) => d.code === 'missing-import');
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: jobs }, range: warnings[0]!.range, context: { diagnostics: warnings } });
    const titles = actions.filter((action) => action.kind === 'quickfix').map((action) => action.title);
    expect(titles).toEqual(['Add `choppa_not_installed_anywhere` to pyproject.toml']);
    const edits = actions.find((action) => action.kind === 'quickfix')?.edit?.changes?.[client.uri(join(project, 'pyproject.toml'))] ?? [];
    expect(edits.map((edit) => [edit.range.start, edit.newText])).toEqual([[{ line: 3, character: pyproject.split('\n')[3]!.length }, '\n    "choppa_not_installed_anywhere",']]);
    expect(existsSync(join(project, 'requirements.txt'))).toBe(false);
  });

  it('refuses a run that needs them when pyproject.toml is not TOML, saying where', async () => {
    writeFileSync(join(project, 'pyproject.toml'), pyproject.replace('"tinypkg[fast]==0.1",', '"tinypkg[fast]==0.1"\n    "numpy",'));
    const result = await client.executeCommand<RunResult>('choppa.run', { uri: jobs, function: 'tiny' });
    expect(result.status).toBe('error');
    expect(result.error?.type).toBe('ChoppaRequirementsError');
    expect(result.error?.message).toMatch(/pyproject\.toml: it is not valid TOML \(line 5, column \d+: .*\), so the project's requirements cannot be read; fix it, or name a requirements file in choppa\.requirementsFile/);
    // What the editor shows on `tiny` is this latest attempt, not the success before it.
    const shown = await client.waitForDiagnostics(jobs, (all) => all.some((d) => String(d.message).includes('ChoppaRequirementsError')));
    expect(shown.filter((d) => String(d.message).startsWith('tiny(') && !String(d.message).includes('ChoppaRequirementsError'))).toEqual([]);
    writeFileSync(join(project, 'pyproject.toml'), pyproject);
  });
});

describe('requirements of one project in a monorepo', () => {
  let workspace: string;
  let client: EditorClient;

  beforeAll(async () => {
    // The editor opens the repository; the project's requirements live in its own folder.
    workspace = tempDir();
    const wheels = join(workspace, 'wheels');
    buildWheel(wheels);
    mkdirSync(join(workspace, 'services', 'scoring'), { recursive: true });
    writeFileSync(join(workspace, 'pyproject.toml'), '[tool.ruff]\nline-length = 100\n');
    writeFileSync(join(workspace, 'services', 'scoring', 'pyproject.toml'), '[project]\nname = "scoring"\ndependencies = ["tinypkg==0.1"]\n');
    client = await EditorClient.start({ root: workspace, env: { DATABRICKS_CONFIG_FILE: join(workspace, 'none'), PIP_CONFIG_FILE: '/dev/null', PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels } });
  });
  afterAll(async () => {
    await client.stop();
  });

  it("installs the requirements of the nearest project declaring them, not only the workspace folder's", async () => {
    const jobs = await client.open(join(workspace, 'services', 'scoring', 'jobs.py'), JOBS);
    const result = await client.executeCommand<RunResult>('choppa.run', { uri: jobs, function: 'tiny' });
    expect(result).toMatchObject({ status: 'ok', value: { json: 'tiny from a wheel' } });
  });
});
