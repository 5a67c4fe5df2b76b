// `npm run demo`: plays an editor against the real server over stdio on the example project,
// on the embedded local backend, and prints what the editor would show at each step: the
// scope warning, a run's diagnostic, hover and inlay hint, a ref over the size limit, a chained
// call, a remote error at its line, and a dereference. `--dask` plays the same steps on a Dask
// cluster it starts on loopback (or the one `--scheduler tcp://...` names).
import { readFileSync, rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { CodeAction, Diagnostic, Hover, InlayHint } from 'vscode-languageserver-protocol';
import { EditorClient } from './editor-client.js';
import { DASK_PYTHON, LocalDaskCluster } from './local-dask-cluster.js';

const EXAMPLE = resolve(import.meta.dirname, '..', '..', '..', 'examples', 'demo', 'pipeline.py');

const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string): string => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);
const say = (text = ''): void => void process.stdout.write(`${text}\n`);
const indent = (text: string, prefix = '     '): string => text.split('\n').map((line) => prefix + line).join('\n');

/** The position of the last occurrence of `needle`: the calls come after the definitions. */
function positionOf(text: string, needle: string): { line: number; character: number } {
  const before = text.slice(0, text.lastIndexOf(needle));
  const lines = before.split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1]!.length };
}

function messageOf(diagnostic: Diagnostic): string {
  return typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
}

function showDiagnostic(diagnostic: Diagnostic): string {
  const icon = ['', '✖ error', '⚠ warning', 'ℹ info', '· hint'][diagnostic.severity ?? 1];
  return `${icon} line ${diagnostic.range.start.line + 1}: ${messageOf(diagnostic)}`;
}

/** Where the demo runs: the embedded backend, or a Dask cluster (started here unless named). */
async function target(argv: string[]): Promise<{ label: string; options?: unknown; stop: () => Promise<void> }> {
  if (!argv.includes('--dask')) return { label: 'the embedded local backend', stop: async () => {} };
  const named = argv[argv.indexOf('--scheduler') + 1];
  const cluster = argv.includes('--scheduler') && named ? undefined : await LocalDaskCluster.start();
  const scheduler = cluster?.address ?? named!;
  return {
    label: cluster ? `a Dask cluster on loopback (${scheduler}, 2 workers)` : `the Dask cluster at ${scheduler}`,
    options: { backend: 'dask', dask: { scheduler, pythonPath: DASK_PYTHON } },
    stop: async () => cluster?.stop(),
  };
}

async function main(): Promise<number> {
  const text = readFileSync(EXAMPLE, 'utf8');
  const root = resolve(EXAMPLE, '..');
  // The demo owns the example's state: start from nothing so every step shows its own result.
  rmSync(resolve(root, '.choppa'), { recursive: true, force: true });
  const where = await target(process.argv.slice(2));
  try {
    return await play(text, root, where.label, where.options);
  } finally {
    await where.stop();
  }
}

async function play(text: string, root: string, label: string, initializationOptions: unknown): Promise<number> {
  const editor = await EditorClient.start({ root, initializationOptions });
  const uri = await editor.open(EXAMPLE, text);
  const shown = (diagnostics: Diagnostic[], code: string, fn: string): Diagnostic | undefined =>
    diagnostics.find((d) => d.code === code && (messageOf(d).startsWith(`${fn}(`) || messageOf(d).includes(` in ${fn} `)));

  say(bold(`choppa-lsp demo: ${relative(process.cwd(), EXAMPLE)} on ${label}`));
  say(dim('An editor opened the file; this is what it shows.'));
  say();

  const opened = await editor.waitForDiagnostics(uri);
  say(bold('1. Scope lint, before anything runs'));
  for (const diagnostic of opened) say(indent(showDiagnostic(diagnostic)));
  const warning = opened.find((d) => d.code === 'free-name');
  if (warning) {
    const fixes = await editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: warning.range,
      context: { diagnostics: [warning] },
    });
    say(indent(`quick fixes: ${fixes.filter((a) => a.kind === 'quickfix').map((a) => a.title).join(' | ')}`));
  }
  say();

  const run = async (fn: string, callText: string, step: string): Promise<void> => {
    const at = positionOf(text, callText);
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: at, end: at },
      context: { diagnostics: [] },
    });
    const action = actions.find((a) => a.command?.command === 'choppa.run');
    say(bold(step));
    say(indent(`code action: ${action?.title ?? '(none)'}`));
    if (!action?.command) return;
    const result = await editor.executeCommand<{ status: string; error?: { message: string; line?: number } }>(
      action.command.command,
      action.command.arguments?.[0],
    );
    if (result.status === 'error' && result.error?.line === undefined) {
      say(indent(`✖ ${result.error?.message ?? 'failed'}`));
      say();
      return;
    }
    const diagnostics = await editor.waitForDiagnostics(
      uri,
      (all) => shown(all, result.status === 'error' ? 'remote-error' : 'run-result', fn) !== undefined,
    );
    const diagnostic = shown(diagnostics, result.status === 'error' ? 'remote-error' : 'run-result', fn);
    if (diagnostic) say(indent(showDiagnostic(diagnostic)));
    const hover = await editor.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at });
    const markdown = hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
    const clip = (line: string): string => (line.length > 100 ? `${line.slice(0, 99)}…` : line);
    say(indent(`hover:\n${indent(markdown.split('\n').slice(0, 12).map(clip).join('\n'), '  │ ')}`));
    say();
  };

  await run('add', 'add(1, 2)', '2. Run `add(1, 2)` from its call site');
  await run('get_stuff', 'get_stuff()', '3. A result over result_size_max comes back as an ArtifactRef');
  await run('analyze_stuff', 'analyze_stuff(data)', '4. Chaining: `data` is passed as the ref, loaded where the function runs');
  await run('ratio', 'ratio(1, 0)', '5. A remote exception lands on the line that raised');

  const hints = await editor.request<InlayHint[]>('textDocument/inlayHint', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: text.split('\n').length, character: 0 } },
  });
  say(bold('6. Inlay hints at the call sites'));
  for (const hint of hints) say(indent(`line ${hint.position.line + 1}: ${typeof hint.label === 'string' ? hint.label : ''}`));
  say();

  say(bold('7. Dereference the artifact of `get_stuff`'));
  const deref = await editor.executeCommand<{ localPath: string; previewPath: string; size: number; sha256: string }>(
    'choppa.dereference',
    { uri, function: 'get_stuff' },
  );
  say(indent(`local copy: ${relative(process.cwd(), deref.localPath)} (${deref.size} bytes, sha256 ${deref.sha256.slice(0, 16)}… verified)`));
  say(indent(`preview:    ${relative(process.cwd(), deref.previewPath)}`));
  const preview = readFileSync(deref.previewPath, 'utf8').split('\n').slice(0, 10);
  say(indent(preview.map((line) => (line.length > 100 ? `${line.slice(0, 99)}…` : line)).join('\n'), '       │ '));
  say();
  say(dim(`Results persist in ${relative(process.cwd(), resolve(root, '.choppa'))}/: open the example in your editor and hover a function.`));
  await editor.stop();
  return 0;
}

// A demo that waits on the server forever helps nobody: give up loudly instead.
setTimeout(() => {
  process.stderr.write('demo failed: no answer from the server within 120 s\n');
  process.exit(1);
}, 120_000).unref();

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
