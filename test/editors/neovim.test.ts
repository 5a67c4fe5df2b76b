// Neovim end to end, on 0.7.2, 0.10 and 0.12: the plugin attaches through setup() (0.12:
// `vim.lsp.enable('choppa')` with `lsp/choppa.lua`) with settings in the README's shape, a code action runs `add(1, 2)`, the result shows as diagnostic and hover,
// `:Choppa deref` opens the preview, code actions, lenses and `:Choppa run` prompt for missing
// arguments, runs land in the quickfix list, messages fit one line, `:help choppa` works, and
// `:checkhealth choppa` names the one unknown setting, and a module changed on disk (a checkout)
// turns the result that shipped it stale although Neovim watches no files on Linux.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, reportMissing, type Sandbox } from './support/headless-env.js';
import { NEOVIMS, runNeovimScenario, type ScenarioResult } from './support/neovim.js';

const INSTALL = 'scripts/install-neovim.sh';

describe.each(NEOVIMS)('Neovim $label', ({ label, binary }) => {
  const missing = missingEditor(binary, INSTALL);
  if (reportMissing(missing)) return;

  let sandbox: Sandbox;
  let result: ScenarioResult;
  beforeAll(async () => {
    sandbox = createSandbox(`choppa-nvim-${label}-`);
    result = await runNeovimScenario(binary, sandbox);
  }, 120_000);
  afterAll(() => sandbox?.remove());

  /** The findings of one scenario step, failing with its error (and Neovim's output) if it failed. */
  function step<T>(name: string): T {
    const found = result.steps.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`step "${name}" did not run (exit ${result.exitCode}):\n${result.stderr}`);
    if (!found.ok) throw new Error(`step "${name}" failed: ${String(found.detail)}\n${result.stderr}`);
    return found.detail as T;
  }

  const modern = label !== '0.7.2' && label !== '0.10';
  it(modern ? "attaches through vim.lsp.enable('choppa') with lsp/choppa.lua (0.11+)" : 'attaches through require("choppa").setup()', () => {
    const detail = step<{ root: string; commands: string[]; how: string }>('attach');
    expect(detail.how).toBe(modern ? 'vim.lsp.enable' : 'setup');
    expect(result.version).toBe(label.split('.').slice(0, 2).join('.'));
    expect(detail.root).toBe(sandbox.project);
    expect(detail.commands).toContain('choppa.run');
  });

  it('runs add(1, 2) from its code action and shows the result at the function, with the severity set in settings = { choppa = ... }', () => {
    const detail = step<{ message: string; severity: number; info: number; lnum: number }>('code action runs add');
    expect(detail.message.startsWith('add(1, 2) → 3')).toBe(true);
    expect(detail.severity).toBe(detail.info);
    const lines = readFileSync(sandbox.file, 'utf8').split('\n');
    expect(detail.lnum).toBe(lines.findIndex((line) => line.startsWith('def add(')));
  });

  it('shows the result in the hover at the call site', () => {
    const { text } = step<{ text: string }>('hover shows the result');
    expect(text).toContain('add(1, 2)');
    expect(text).toMatch(/\b3\b/);
  });

  it('opens the preview of get_stuff with :Choppa deref after :Choppa run', () => {
    const detail = step<{ ran: string; preview: { name: string; lines: string[] } }>('Choppa deref opens the preview');
    expect(detail.ran).toMatch(/^choppa: get_stuff\(\) → ArtifactRef /);
    expect(detail.preview.name.startsWith(`${sandbox.project}/.choppa/artifacts/`)).toBe(true);
    expect(detail.preview.lines[0]).toMatch(/^ArtifactRef /);
  });

  it('opens the preview from the Dereference code action too (0.7 has no showDocument)', () => {
    const { preview } = step<{ preview: string }>('the Dereference code action opens the preview');
    expect(preview).toMatch(new RegExp(`^${sandbox.project}/\\.choppa/artifacts/get_stuff-.+\\.preview\\.md$`));
  });

  it('prompts for missing arguments through vim.ui.input, pre-filled with the last ones', () => {
    const detail = step<{ first: string; second: string; prompts: Array<{ prompt: string; default: string }> }>(
      'Choppa run prompts for arguments',
    );
    expect(detail.first).toBe('choppa: ratio(6, 3) → 2.0');
    expect(detail.second).toBe('choppa: ratio(1, 4) → 0.25');
    expect(detail.prompts).toEqual([
      { prompt: 'ratio(a, b): ', default: '' },
      { prompt: 'ratio(a, b): ', default: '6, 3' },
    ]);
  });

  it('prompts for missing arguments from the code-action menu too', () => {
    const detail = step<{ ran: string; prompt: { prompt: string } }>('code action prompts for missing arguments');
    expect(detail.ran).toBe('choppa: ratio(2, 4) → 0.5');
    expect(detail.prompt.prompt).toBe('ratio(a, b): ');
  });

  it('runs as artifact with :Choppa artifact and reports the client with :Choppa status', () => {
    const detail = step<{ artifact: string; status: string }>('Choppa artifact and status');
    expect(detail.artifact).toMatch(/^choppa: squares_table\(\) → ArtifactRef list \d+ B$/);
    // One line, cut to fit: the whole root is in :checkhealth choppa.
    expect(detail.status).toMatch(/^choppa: client \d+ attached, root \//);
  });

  it('submits a job, lists runs and opens a run log with :Choppa submit, runs and log', () => {
    const detail = step<{ submitted: string; runs: string; quickfix: Array<{ file: string; lnum: number; text: string }>; log: string; completion: string[] }>(
      'Choppa submit, runs and log',
    );
    expect(detail.submitted).toContain('submitted');
    expect(detail.runs).toMatch(/^choppa: \d+ runs in the quickfix list$/);
    const lines = readFileSync(sandbox.file, 'utf8').split('\n');
    const squares = detail.quickfix.find((item) => item.text.startsWith('squares_table: '));
    expect(squares).toMatchObject({ file: sandbox.file, lnum: lines.findIndex((line) => line.startsWith('def squares_table(')) + 1 });
    expect(detail.quickfix.some((item) => /^add: ok, finished /.test(item.text))).toBe(true);
    expect(detail.log).toMatch(/\.choppa\/logs\/squares_table-.+\.log$/);
    expect(detail.completion).toEqual(['artifact', 'cancel', 'clusters', 'deref', 'log', 'restart', 'run', 'runs', 'status', 'submit']);
  });

  it('shows one run lens and a "⋯ more" lens per function, refreshed by the plugin', () => {
    const { titles } = step<{ titles: string[] }>('code lenses are shown and refreshed');
    expect(titles).toContain('Run add remotely');
    expect(titles).toContain('⋯ more');
    expect(titles).not.toContain('Submit add as a job');
  });

  it('offers the other actions behind "⋯ more", and they prompt for arguments', () => {
    const detail = step<{ ran: string; menus: string[][]; prompt: { prompt: string } }>('the more lens offers the other actions, which prompt for arguments');
    expect(detail.menus[0]).toEqual(['Run add remotely', '⋯ more']);
    expect(detail.menus[1]).toEqual(expect.arrayContaining(['Run add as artifact', 'Submit add as a job', 'Show run log of add']));
    expect(detail.menus[1]).not.toContain('Run add remotely');
    expect(detail.prompt.prompt).toBe('add(a, b): ');
    expect(detail.ran).toMatch(/^choppa: add\(3, 4\) → ArtifactRef /);
  });

  it('answers :Choppa cancel in one line, and keeps every message to one line (no Press ENTER)', () => {
    expect(step<{ message: string }>('cancel says so in one line').message).toBe('choppa: There is no run of it in flight to cancel.');
    const { long, count } = step<{ long: string[]; count: number }>('messages fit one line');
    expect(count).toBeGreaterThan(10);
    expect(long).toEqual([]);
  });

  it('gets the answer and the error of a run whose message holds a lone surrogate (as U+FFFD)', () => {
    const detail = step<{ status: string; message: string }>('a run whose error holds a lone surrogate answers and shows it');
    expect(detail.status).toBe('error');
    expect(detail.message).toContain('FileNotFoundError: no such file: caf\uFFFD.csv');
  });

  it('turns a result stale when a module it shipped changes on disk (no file watching on Linux)', () => {
    const detail = step<{ ran: string; stale: string }>('a module changed on disk turns the result that shipped it stale');
    expect(detail.ran).not.toContain('stale');
    expect(detail.stale).toContain('stale: a shipped module changed');
  });

  it('opens :help choppa without running :helptags', () => {
    expect(step<{ name: string }>('help opens without helptags').name).toMatch(/client-neovim\/doc\/choppa\.txt$/);
  });

  it('reports OK in :checkhealth choppa, and warns about the unknown setting', () => {
    const { lines } = step<{ lines: string[] }>('checkhealth choppa');
    const report = lines.join('\n');
    expect(report).toMatch(/OK:? server runs/);
    expect(report).toMatch(/OK:? local backend Python: Python 3/);
    expect(report).toContain(`attached: client ${/client (\d+) \(root /.exec(report)?.[1]} (root ${sandbox.project})`);
    expect(report).toMatch(/OK:? server commands: .*choppa\.dereference/);
    // The one stray key of the scenario's settings, and nothing else.
    expect(report).toMatch(/WARNING:? unknown settings \(ignored by the server\): pythonPth/);
    expect(report.match(/ERROR|WARNING/g)).toEqual(['WARNING']);
  });
});
