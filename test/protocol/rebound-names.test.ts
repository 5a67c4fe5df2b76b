// A name bound to a remote result and then rebound by a statement that is not an assignment (a
// `for` target, `with … as`, `import … as`, a walrus, `def`, `del`): Python passes the new value,
// so a call after it must not be given the old result. Assigned again in a block that may not run
// (`if DEBUG:`), the value is decided when the module runs: refused too. Against real python3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const text = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa()',
  '',
  '',
  '@dutch.remote',
  'def load(n):',
  '    return list(range(n))',
  '',
  '',
  '@dutch.remote',
  'def total(rows):',
  '    return sum(rows)',
  '',
  '',
  'frame = load(3)',
  'kept = total(frame)',
  'for frame in [[100, 200]]:',
  '    inside = total(frame)',
  'after = total(frame)',
  '',
  'handle = load(3)',
  'with open(__file__) as handle:',
  '    pass',
  'closed = total(handle)',
  '',
  'json = load(3)',
  'import json',
  'module = total(json)',
  '',
  'flag = load(3)',
  'if (flag := [1]):',
  '    pass',
  'walrus = total(flag)',
  '',
  'big = load(3)',
  'if DEBUG:',
  '    big = load(2)',
  '    debug_total = total(big)',
  'guarded = total(big)',
  '',
].join('\n');

let editor: EditorClient;
let uri: string;

beforeAll(async () => {
  const root = tempDir();
  editor = await EditorClient.start({ root });
  uri = await editor.open(`${root}/jobs.py`, text);
  for (const binding of ['frame = load(3)', 'handle = load(3)', 'json = load(3)', 'flag = load(3)', 'big = load(3)', 'big = load(2)']) {
    const position = positionOf(text, binding, binding.indexOf('load'));
    const args = binding.slice(binding.indexOf('(') + 1, -1);
    const result = await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'load', args, position });
    expect(result.status).toBe('ok');
  }
});

afterAll(async () => {
  await editor.stop();
});

function runTotal(line: string): Promise<{ status: string; value?: { repr: string }; error?: { message: string } }> {
  const args = line.slice(line.indexOf('total(') + 6, line.lastIndexOf(')'));
  return editor.executeCommand('choppa.run', { uri, function: 'total', args, position: positionOf(text, line, line.indexOf('total')) });
}

describe('a name rebound by a statement other than an assignment', () => {
  it('is still the remote result before the rebinding', async () => {
    expect(await runTotal('kept = total(frame)')).toMatchObject({ status: 'ok', value: { repr: '3' } });
  });

  it.each(['inside = total(frame)', 'after = total(frame)', 'closed = total(handle)', 'module = total(json)', 'walrus = total(flag)'])(
    'is not given the old result after it: %s',
    async (line) => {
      const result = await runTotal(line);
      expect(result.status).toBe('error');
      const name = line.slice(line.indexOf('(') + 1, -1);
      expect(result.error?.message).toContain(`Argument \`${name}\` of \`total\` is neither a literal, a module constant, nor the result of another remote call.`);
    },
  );
});

describe('a name assigned again in a block that may not run', () => {
  it('is that assignment inside the block', async () => {
    expect(await runTotal('debug_total = total(big)')).toMatchObject({ status: 'ok', value: { repr: '1' } });
  });

  it('is refused after the block, where either assignment may hold', async () => {
    const result = await runTotal('guarded = total(big)');
    expect(result.status).toBe('error');
    expect(result.error?.message).toBe(
      `\`big\` is assigned at line ${positionOf(text, '    big = load(2)').line + 1} in a block that may not run (an \`if\`, a loop or an \`except\`), and at line ${positionOf(text, 'big = load(3)').line + 1} before it: ` +
        'which value it holds here is decided when the module runs. Assign it once before this call, or pass a literal.',
    );
  });
});
