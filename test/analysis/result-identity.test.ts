// What result identity reads from the code: call keys that tell `load(1000)` from `load(3)`,
// bindings to exactly one call or to a literal, the `# choppa: cache` opt-in, and staleness.
import { describe, expect, it } from 'vitest';
import { sourceHash, codeVersion, staleness } from '../../server/src/engine/result-identity.js';
import { bindingAt, callIdentity } from '../../server/src/engine/call-identity.js';
import { analyzeText } from './support.js';

const text = [
  'from choppa import Choppa',
  'dutch = Choppa()',
  'REGIONS = ["emea", "amer"]  # where we sell',
  'LIMIT = 10 * 1024',
  'RATIO = 10 / 5',
  'NAMES = ("a",) + ("b",)',
  'TWICE = LIMIT * 2',
  'NAME = f"x{LIMIT}"',
  '@dutch.remote  # choppa: cache',
  'def load(n):',
  '    return list(range(n))',
  '@dutch.remote',
  'def count(rows):',
  '    return len(rows)',
  'big = load( 1000 )',
  'small = load(3)',
  'count(big)',
  'load(n=3, *more)',
].join('\n');

describe('result identity in the analysis', () => {
  const analysis = analyzeText(text);

  it('gives each call a key from its arguments as written, spaces aside', () => {
    expect(analysis.calls.map((call) => call.key)).toEqual(['1000', '3', 'big', 'n=3, *more']);
  });

  it('binds a name to exactly the call on its right-hand side', () => {
    expect(bindingAt(analysis.bindings, 'big', undefined)).toMatchObject({ callOf: 'load', call: { key: '1000', argsSource: ' 1000 ' } });
    expect(bindingAt(analysis.bindings, 'small', undefined)?.call?.key).toBe('3');
  });

  it('reads module constants made of literals and arithmetic on them as written, and nothing else', () => {
    expect(bindingAt(analysis.bindings, 'REGIONS', undefined)?.literal).toBe('["emea", "amer"]');
    expect(bindingAt(analysis.bindings, 'LIMIT', undefined)?.literal).toBe('10 * 1024');
    // Computed by the runner in Python (folded here, `10 / 5` would pass the int 2, not 2.0).
    expect(bindingAt(analysis.bindings, 'RATIO', undefined)?.literal).toBe('10 / 5');
    expect(bindingAt(analysis.bindings, 'NAMES', undefined)?.literal).toBe('("a",) + ("b",)');
    expect(bindingAt(analysis.bindings, 'TWICE', undefined)?.literal).toBeUndefined();
    expect(bindingAt(analysis.bindings, 'NAME', undefined)?.literal).toBeUndefined();
    expect(bindingAt(analysis.bindings, 'big', undefined)?.literal).toBeUndefined();
  });

  it('reads the cache opt-in from the decorator line only', () => {
    expect(analysis.functions.map((fn) => [fn.name, fn.cacheOptIn])).toEqual([['load', true], ['count', false]]);
  });

  it('says what changed when a stored version no longer matches the code', () => {
    const load = analysis.functions[0]!;
    const version = codeVersion({ source: sourceHash(load.source), mode: 'remote', inputs: { regions: { kind: 'literal', text: '["emea"]' } } });
    const current = { fn: load, bundle: undefined, binding: () => ({ name: 'regions', span: load.span, literal: '["emea"]' }), boundCall: () => undefined, upstream: () => undefined };
    expect(staleness(version, current)).toBeUndefined();
    expect(staleness(version, { ...current, fn: { ...load, source: `${load.source} ` } })).toBe('the code of load changed');
    expect(staleness(version, { ...current, bundle: 'abc' })).toBe('a shipped module changed');
    expect(staleness(version, { ...current, binding: () => undefined })).toBe('`regions` changed');
    expect(staleness(undefined, current)).toContain('before choppa-lsp kept code versions');
  });

  it('tells two calls written alike apart by which assignment each of their names reads', () => {
    const rebinding = analyzeText(['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def show(x):', '    return x', 'N = 1', 'show(N)', 'N = 2', 'show(N)', 'df = show(N)', 'df = show(df)', 'show(df)'].join('\n'));
    const identities = rebinding.calls.map((call) => callIdentity(call.key, call.args.filter((arg) => arg.identifier).map((arg) => arg.identifier!), 'jobs.py::', rebinding.bindings, call.span.start));
    expect(identities).toEqual(['N | jobs.py:: N#1', 'N | jobs.py:: N#2', 'N | jobs.py:: N#2', 'df | jobs.py:: df#1', 'df | jobs.py:: df#2']);
    // Arguments given as text (the CLI, a client) read each name's last assignment.
    expect(callIdentity('N', ['N'], 'jobs.py::', rebinding.bindings, undefined)).toBe('N | jobs.py:: N#2');
    expect(callIdentity('1000', [], 'jobs.py::', rebinding.bindings, undefined)).toBe('1000');
  });
});
