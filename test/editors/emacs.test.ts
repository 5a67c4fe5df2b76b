// Emacs 28 with Debian's eglot 1.9, and Emacs 30 with its built-in eglot, end to end, in
// `emacs --batch` with client-emacs/choppa.el:
// a code-action run and an 11 s run do not block Emacs (eglot's own request would time out
// after 10 s), progress shows in the mode line, missing arguments are asked for with
// read-string, hover is plain text, deref opens the preview and cancel stops a run. Then in a
// terminal (tmux), as a user sees it: the mode line shows the run and Emacs takes keys meanwhile.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, REPO_ROOT, reportMissing, SERVER_JS, type Sandbox } from './support/headless-env.js';
import { EMACSES, INSTALL } from './support/emacs.js';
import { TmuxSession } from './support/tmux.js';


interface Step {
  name: string;
  ok: boolean;
  detail: unknown;
}

interface Scenario {
  version: string;
  eglot: number[];
  steps: Step[];
  messages: string[];
}

// Long enough to pass eglot's 10 s `jsonrpc-default-request-timeout`.
const SLOW = `

@dutch.remote
def slow(seconds=11):
    import time
    time.sleep(seconds)
    return seconds
`;

async function runScenario(emacs: string, sandbox: Sandbox, timeoutMs = 150_000): Promise<{ scenario: Scenario | undefined; output: string }> {
  const results = join(sandbox.dir, 'emacs-results.json');
  const child = spawn(emacs, ['--batch', '-Q', '-l', join(REPO_ROOT, 'test/editors/support/emacs-scenario.el')], {
    cwd: sandbox.project,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...sandbox.env,
      CHOPPA_REPO: REPO_ROOT,
      CHOPPA_FILE: sandbox.file,
      CHOPPA_RESULTS: results,
      CHOPPA_SERVER_CMD: JSON.stringify([process.execPath, SERVER_JS, '--stdio']),
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  await new Promise<void>((done) => {
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
  return { scenario: existsSync(results) ? (JSON.parse(readFileSync(results, 'utf8')) as Scenario) : undefined, output };
}

describe.each(EMACSES)('Emacs $label with eglot', ({ label, binary, needs, packages, version, eglot }) => {
  const missing = missingEditor(binary, INSTALL) ?? missingEditor(needs, INSTALL);
  if (reportMissing(missing)) return;

  let sandbox: Sandbox;
  let scenario: Scenario | undefined;
  let output: string;
  beforeAll(async () => {
    sandbox = createSandbox(`choppa-emacs-${label}-`);
    appendFileSync(sandbox.file, SLOW);
    ({ scenario, output } = await runScenario(binary, sandbox));
  }, 180_000);
  afterAll(() => sandbox?.remove());

  function step<T>(name: string): T {
    const found = scenario?.steps.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`step "${name}" did not run:\n${output}`);
    if (!found.ok) throw new Error(`step "${name}" failed: ${String(found.detail)}\n${output}`);
    return found.detail as T;
  }

  it('byte-compiles client-emacs/choppa.el without a warning', () => {
    const copy = join(sandbox.dir, 'choppa.el');
    copyFileSync(join(REPO_ROOT, 'client-emacs', 'choppa.el'), copy);
    const compile = spawnSync(binary, ['--batch', '-Q', '--eval',
      `(progn (setq package-directory-list '(${packages.map((dir) => JSON.stringify(dir)).join(' ')})) (package-initialize) (setq byte-compile-error-on-warn t) (unless (byte-compile-file ${JSON.stringify(copy)}) (kill-emacs 1)))`,
    ], { encoding: 'utf8', env: sandbox.env, timeout: 60_000 });
    expect(compile.stderr).not.toMatch(/Warning|Error/);
    expect(compile.status).toBe(0);
  });

  it('starts choppa-lsp as eglot-choppa for python-mode', () => {
    const detail = step<{ class: string; root: string; commands: string[] }>('attach');
    expect(scenario!.version).toMatch(version);
    expect(eglot(scenario!.eglot), `eglot ${scenario!.eglot.join('.')}`).toBe(true);
    expect(detail.class).toBe('eglot-choppa');
    expect(detail.root).toBe(sandbox.project);
    expect(detail.commands).toContain('choppa.run');
  });

  it("runs add(1, 2) from eglot's code action without waiting, and shows the result diagnostic", () => {
    const detail = step<{ returnedSeconds: number; message: string; type: string; line: number }>('code action runs add');
    expect(detail.returnedSeconds).toBeLessThan(2);
    // eglot writes `source [code]: message`.
    expect(detail.message.startsWith('choppa [run-result]: add(1, 2) → 3')).toBe(true);
    const lines = readFileSync(sandbox.file, 'utf8').split('\n');
    expect(detail.line).toBe(lines.findIndex((line) => line.startsWith('def add(')) + 1);
  });

  it('keeps Emacs responsive through an 11 s run, with progress in the mode line and no time-out', () => {
    const detail = step<{ returnedSeconds: number; tookSeconds: number; progress: string; modeLineDuringHover: string; result: string; modeLineAfter: string; timedOut: boolean }>(
      'long run does not block',
    );
    expect(detail.returnedSeconds).toBeLessThan(2);
    expect(detail.tookSeconds).toBeGreaterThan(10);
    expect(detail.progress).toContain('choppa: Running slow');
    expect(detail.modeLineDuringHover).toContain('Running slow');
    expect(detail.result).toBe('choppa: slow() → 11');
    expect(detail.modeLineAfter).toBe('');
    expect(detail.timedOut).toBe(false);
  });

  it('asks for missing arguments with read-string, naming them and pre-filled with the last ones', () => {
    const detail = step<{ first: string; second: string; prompts: Array<{ prompt: string; initial: string }> }>('run prompts for arguments');
    expect(detail.first).toBe('choppa: ratio(6, 3) → 2.0');
    expect(detail.second).toBe('choppa: ratio(1, 4) → 0.25');
    expect(detail.prompts).toEqual([
      { prompt: 'ratio(a, b): ', initial: '' },
      { prompt: 'ratio(a, b): ', initial: '6, 3' },
    ]);
  });

  it('shows the hover as plain text, as eglot without markdown-mode asks', () => {
    const { text } = step<{ text: string }>('hover is plain text');
    expect(text).toContain('add(1, 2)');
    expect(text).toMatch(/\b3\b/);
    expect(text).not.toContain('**');
    expect(text).not.toContain('```');
  });

  it('opens the preview of an artifact with choppa-deref (the server says where it is when it cannot open it)', () => {
    const detail = step<{ ran: string; preview: string; firstLine: string; serverMessage: string }>('deref opens the preview');
    expect(detail.ran).toMatch(/^choppa: get_stuff\(\) → ArtifactRef \S+ \(1\.2 MB\); M-x choppa-deref downloads it$/);
    expect(detail.preview.startsWith(`${sandbox.project}/.choppa/artifacts/`)).toBe(true);
    expect(detail.firstLine).toMatch(/^ArtifactRef /);
    if (label === '28') {
      // eglot 1.9 has no window/showDocument: the server says where the preview is.
      expect(detail.serverMessage).toContain(detail.preview);
    } else {
      // eglot 1.17 opens it on the server's window/showDocument: no message repeats it.
      expect(detail.serverMessage).toBe('');
    }
  });

  it('cancels a run in flight with choppa-cancel', () => {
    const detail = step<{ cancelled: string }>('cancel stops a run');
    expect(detail.cancelled).toBe('choppa: slow() cancelled');
  });
});

describe.each(EMACSES)('Emacs $label with eglot in a terminal', ({ label, binary, needs, packages }) => {
  const missing = missingEditor(binary, INSTALL) ?? missingEditor(needs, INSTALL) ?? missingEditor('/usr/bin/tmux', INSTALL);
  if (reportMissing(missing)) return;

  let sandbox: Sandbox;
  let tmux: TmuxSession | undefined;
  beforeAll(async () => {
    sandbox = createSandbox(`choppa-emacs-tty-${label}-`);
    appendFileSync(sandbox.file, SLOW);
    const init = join(sandbox.dir, 'init.el');
    // What the README tells users to write, with the server of this checkout.
    writeFileSync(init, [
      // The unpacked Emacs 30 has no C toolchain for native compilation (see emacs-scenario.el).
      '(setq native-comp-enable-subr-trampolines nil native-comp-jit-compilation nil)',
      `(setq package-directory-list '(${packages.map((dir) => JSON.stringify(dir)).join(' ')}))`,
      '(package-initialize)',
      `(add-to-list 'load-path ${JSON.stringify(join(REPO_ROOT, 'client-emacs'))})`,
      "(require 'choppa)",
      `(setq choppa-server-command '(${JSON.stringify(process.execPath)} ${JSON.stringify(SERVER_JS)} "--stdio"))`,
      '(choppa-eglot-setup)',
      "(add-hook 'python-mode-hook #'eglot-ensure)",
      '(setq python-indent-guess-indent-offset nil inhibit-startup-screen t)',
    ].join('\n'));
    tmux = TmuxSession.start({
      socket: `choppa-emacs-${label}-${process.pid}`,
      cwd: sandbox.project,
      env: { ...sandbox.env, TERM: 'xterm-256color' },
      width: 140,
      height: 30,
      command: [binary, '-nw', '-Q', '-l', init, sandbox.file],
    });
    await tmux.waitForScreen('eglot to manage the buffer', (screen) => /eglot:/.test(screen), 60_000);
  }, 90_000);

  afterAll(async () => {
    await tmux?.stop();
    sandbox?.remove();
  });

  it('shows the run in the mode line and keeps taking keys until its result arrives', async () => {
    const session = tmux!;
    session.send(['M-<']);
    session.send(['C-s']);
    session.send(['def slow'], true);
    session.send(['Enter']);
    session.send(['M-x']);
    session.send(['choppa-run'], true);
    session.send(['Enter']);
    const running = await session.waitForScreen('the run in the mode line', (screen) => screen.includes('choppa: Running slow'), 30_000);
    expect(running).not.toContain('slow() → 11');
    // Emacs takes keys meanwhile: evaluate (+ 40 2) in *scratch* while the run goes on.
    session.send(['C-x', 'b']);
    session.send(['*scratch*'], true);
    session.send(['Enter']);
    session.send(['(+ 40 2)'], true);
    session.send(['C-j']);
    const answered = await session.waitForScreen('the evaluation', (screen) => /^42$/m.test(screen), 10_000);
    expect(answered).toContain('choppa: Running slow');
    const done = await session.waitForScreen('the result in the echo area', (screen) => screen.includes('choppa: slow() → 11'), 60_000);
    expect(done).not.toContain('choppa: Running slow');
    expect(done).not.toMatch(/[Tt]imed out/);
  }, 120_000);
});
