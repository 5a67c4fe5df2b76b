// The run commands offered for a decorated function or a call of it, shared by code actions
// and code lenses so both surfaces offer the same things with the same arguments.
import type { Command } from 'vscode-languageserver/node';
import type { CallSite, DecoratedFunction } from '../analysis/model.js';
import { oneLine } from '../engine/format.js';
import type { RunRecord } from '../engine/run-record.js';
import { COMMANDS, type RunArguments } from './extensions.js';

/** Run remotely, Run as artifact and, when the last result is a ref, Dereference. */
export function runCommands(uri: string, fn: DecoratedFunction, record: RunRecord | undefined, call?: CallSite): Command[] {
  const args: RunArguments = { uri, function: fn.name };
  let label = fn.name;
  if (call) {
    args.args = call.argsSource;
    args.position = call.span.start;
    label = `${fn.name}(${oneLine(call.argsSource, 40)})`;
  }
  const commands: Command[] = [
    { title: `Run ${label} remotely`, command: COMMANDS.run, arguments: [args] },
    { title: `Run ${label} as artifact`, command: COMMANDS.runArtifact, arguments: [args] },
  ];
  if (record?.ref) {
    commands.push({
      title: `Dereference last artifact of ${fn.name}`,
      command: COMMANDS.dereference,
      arguments: [{ uri, function: fn.name }],
    });
  }
  return commands;
}
