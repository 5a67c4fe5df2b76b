// Pure pieces of the output path: the bounded tail outcomes keep, the runner channel's reading of
// cut, out-of-order and pieced answers, and the report budget per runtime.
import { describe, expect, it } from 'vitest';
import { reportBudgetFor } from '../../server/src/backends/databricks/runtime-limits.js';
import { boundedOutput, omittedLine, OutputTail, shorterTail } from '../../server/src/backends/output-tail.js';
import { OUTPUT_CAP_MARKER, RunnerChannel } from '../../server/src/backends/runner-channel.js';
import { clipped } from '../../server/src/backends/runner-protocol.js';

describe('OutputTail', () => {
  it.each([
    { chunks: ['abc', 'def'], limit: 10, expected: 'abcdef' },
    { chunks: ['abcdef', 'ghij'], limit: 4, expected: omittedLine(6) + 'ghij' },
    { chunks: Array.from({ length: 1000 }, (_, i) => `${i % 10}`), limit: 5, expected: omittedLine(995) + '56789' },
  ])('keeps the last $limit characters of $chunks.length chunks', ({ chunks, limit, expected }) => {
    const tail = new OutputTail(limit);
    for (const chunk of chunks) tail.append(chunk);
    expect(tail.text()).toBe(expected);
    expect(tail.total).toBe(chunks.join('').length);
    expect(boundedOutput(chunks.join(''), limit)).toBe(expected);
  });

  it('cuts a tail to the stored size, counting what the first cut left out too', () => {
    const whole = Array.from({ length: 3000 }, (_, i) => `line ${i}\n`).join('');
    const tail = new OutputTail(1000);
    tail.append(whole);
    const stored = shorterTail(tail.text(), 100);
    expect(stored).toBe(omittedLine(whole.length - 100) + whole.slice(-100));
    expect(shorterTail(whole, 100)).toBe(stored);
    expect(shorterTail('short', 100)).toBe('short');
    expect(shorterTail(omittedLine(7) + 'short', 100)).toBe(omittedLine(7) + 'short');
  });

  it('clips a long text around a note, keeping head and tail', () => {
    expect(clipped('a'.repeat(5) + 'b'.repeat(10) + 'c'.repeat(5), 10)).toBe('aaaaa\n[... 10 characters omitted ...]\nccccc');
    expect(clipped('short', 10)).toBe('short');
  });
});

const report = (fields: Record<string, unknown>) => JSON.stringify({ run_id: 'r', state: 'running', stdout: '', stderr: '', out_at: 0, out: 0, err_at: 0, err: 0, ...fields });

describe('RunnerChannel', () => {
  it('acknowledges the positions it received in the next poll', () => {
    const channel = new RunnerChannel('r', 16_000);
    const read = channel.accept(report({ stdout: 'héllo', out: 5 }));
    expect(read).toMatchObject({ kind: 'report', report: { stdout: 'héllo' } });
    expect(channel.poll()).toBe('_choppa_runner.poll("r", 5, 0, 0, 16000)');
  });

  it('recognises an answer cut by the output cap, halves the budget and polls the same positions again', () => {
    const channel = new RunnerChannel('r', 16_000);
    channel.accept(report({ stdout: 'x', out: 1 }));
    const cut = report({ out_at: 1, stdout: 'y'.repeat(100), out: 101 });
    expect(channel.accept(cut.slice(0, 40) + OUTPUT_CAP_MARKER + cut.slice(-40))).toEqual({ kind: 'truncated', budget: 8000 });
    expect(channel.poll()).toBe('_choppa_runner.poll("r", 1, 0, 0, 8000)');
  });

  it('refuses output from a position it did not ask for', () => {
    const channel = new RunnerChannel('r', 16_000);
    expect(channel.accept(report({ out_at: 3, out: 5 }))).toMatchObject({ failure: expect.stringContaining('position 3/0') });
  });

  it('puts an envelope together from its pieces', () => {
    const channel = new RunnerChannel('r', 16_000);
    const envelope = JSON.stringify({ status: 'ok', value: { repr: '[1, 2]', type: 'list', size: 20, json: [1, 2] }, durationMs: 3 });
    const first = channel.accept(report({ envelope_part: { at: 0, text: envelope.slice(0, 30), size: envelope.length }, more: true }));
    expect(first).toMatchObject({ kind: 'report', report: { more: true } });
    expect(channel.poll()).toBe('_choppa_runner.poll("r", 0, 0, 30, 16000)');
    const last = channel.accept(report({ state: 'done', envelope_part: { at: 30, text: envelope.slice(30), size: envelope.length } }));
    expect(last).toMatchObject({ kind: 'report', report: { outcome: { status: 'ok', value: { json: [1, 2] } } } });
  });
});

describe('reportBudgetFor', () => {
  it.each([
    ['16.4.x-scala2.12', 16_000],
    ['15.4.x-photon-scala2.12', 16_000],
    ['17.3.x-scala2.13', 1_000_000],
    ['custom:my-image', 16_000],
    [undefined, 16_000],
  ])('%s: %i characters', (version, budget) => {
    expect(reportBudgetFor(version)).toBe(budget);
  });
});
