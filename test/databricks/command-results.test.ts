// How error results of the Command Execution API read once cleaned: the recorded DBR payloads
// (databricks-api.md §1.4) and the emulator's, with their HTML summaries and ANSI causes.
import { describe, expect, it } from 'vitest';
import { errorResultMessage, stripAnsi, stripHtml, type CommandResults } from '../../server/src/backends/databricks/command-execution.js';

function check(results: CommandResults, expected: string): void {
  expect(errorResultMessage(results)).toBe(expected);
}

describe('errorResultMessage', () => {
  it('reads the HTML summary of a raised exception', () => {
    check(
      {
        resultType: 'error',
        summary: "<span class='ansi-red-fg'>Exception</span>: juhu",
        cause: '\u001b[0;31m---------\u001b[0m\n\u001b[0;31mException\u001b[0m   Traceback (most recent call last)\n\n\u001b[0;31mException\u001b[0m: juhu',
      },
      'Exception: juhu',
    );
  });

  it('decodes entities the summary escapes', () => {
    check({ resultType: 'error', summary: "<span class='ansi-red-fg'>NameError</span>: name &#x27;_choppa_runner&#x27; is not defined" }, "NameError: name '_choppa_runner' is not defined");
    check({ resultType: 'error', summary: '<b>KeyError: &quot;a&quot; &lt; &amp;</b>' }, 'KeyError: "a" < &');
  });

  it('falls back to the last line of the cause without ANSI', () => {
    check({ resultType: 'error', cause: 'Traceback \u001b[0;36m(most recent call last)\u001b[0m:\n  File \u001b[1;32m"x.py"\u001b[0m\n\u001b[0;31mSyntaxError\u001b[0m: invalid syntax\n' }, 'SyntaxError: invalid syntax');
    check({ resultType: 'error' }, 'the command failed without a message');
  });

  it('strips every escape and tag', () => {
    expect(stripAnsi('\u001b[1;32m---> 3\u001b[0m x\u009b2K')).toBe('---> 3 x');
    expect(stripHtml("<span class='ansi-red-fg'>E</span>: <i>m</i>")).toBe('E: m');
  });
});
