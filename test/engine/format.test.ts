// The renderings every surface shares: one size format (the VS Code client and the Neovim
// plugin follow it), relative times in hover, and Markdown made plain for plaintext clients.
import { describe, expect, it } from 'vitest';
import { formatBytes, formatRelativeTime } from '../../server/src/engine/format.js';
import { markdownToPlainText } from '../../server/src/engine/plain-text.js';

describe('formatBytes', () => {
  it.each([
    [5, '5 B'],
    [1023, '1023 B'],
    [18_022, '17.6 KB'],
    [180_224, '176 KB'],
    [1_307_375, '1.2 MB'],
    [5 * 1024 ** 3, '5.0 GB'],
  ])('%d bytes read %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatRelativeTime', () => {
  const now = Date.parse('2026-03-10T12:00:00.000Z');
  it.each([
    ['2026-03-10T11:59:30.000Z', 'just now'],
    ['2026-03-10T11:58:00.000Z', '2 min ago'],
    ['2026-03-10T09:00:00.000Z', '3 h ago'],
    ['2026-03-09T10:00:00.000Z', 'yesterday'],
    ['2026-03-05T12:00:00.000Z', '5 days ago'],
    ['2026-01-02T12:00:00.000Z', '2026-01-02'],
    ['not a date', 'not a date'],
  ])('%s reads %s', (iso, text) => {
    expect(formatRelativeTime(iso, now)).toBe(text);
  });
});

describe('markdownToPlainText', () => {
  it('drops emphasis and code marks, indents fences, keeps tables', () => {
    const markdown = ['**@dutch.remote** `add`', '', 'Last run `add(1, 2)` returned:', '', '```python', '3', '```', '', '| a |', '|---|', '| 1 |'].join('\n');
    expect(markdownToPlainText(markdown)).toBe(['@dutch.remote add', '', 'Last run add(1, 2) returned:', '', '    3', '', '| a |', '|---|', '| 1 |'].join('\n'));
  });

  it('keeps backticks inside a longer fence', () => {
    expect(markdownToPlainText('````text\nuse ``` here\n````')).toBe('    use ``` here');
  });
});
