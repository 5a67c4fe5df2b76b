// The run commands offered for a decorated function or a call of it, shared by code actions
// and code lenses so both surfaces offer the same things with the same arguments.
import type { Command } from 'vscode-languageserver/node';
import type { CallSite, DecoratedFunction } from '../analysis/model.js';
import { oneLine } from '../engine/format.js';
import type { RunRecord } from '../engine/run-record.js';
import { COMMANDS, type RunArguments } from './extensions.js';

/** What is going on with a function now, for the commands that depend on it. */
export interface RunContext {
  record: RunRecord | undefined;
  /** A run or a submitted job of it is in flight. */
  inFlight: boolean;
  /** It has a log to show (a run in flight or a finished one). */
  hasLog: boolean;
  /** A run would be served from the cache: offer running it anyway. */
  cacheServes: boolean;
}

/**
 * Run remotely, Run as artifact, Submit job, and, when they apply, Run again (ignore cache),
 * Cancel run, Dereference last artifact and Show run log. `@inst.submit` functions offer Submit
 * job first; `@inst.artifact` functions always run as artifacts, so they offer that first.
 */
export function runCommands(uri: string, fn: DecoratedFunction, context: RunContext, call?: CallSite, definedIn: string = uri): Command[] {
  // A call site runs the function by the name this file calls it (`p`, `m.plain`); what only
  // concerns its results (cancel, log, dereference) goes to the file that defines it.
  const args: RunArguments = { uri, function: call?.function ?? fn.name };
  let label = fn.name;
  if (call) {
    args.args = call.argsSource;
    args.position = call.span.start;
    label = `${call.function}(${oneLine(call.argsSource, 40)})`;
  }
  const submit: Command = { title: `Submit ${label} as a job`, command: COMMANDS.submit, arguments: [args] };
  const commands: Command[] = fn.kind === 'artifact'
    ? [{ title: `Run ${label} as artifact`, command: COMMANDS.runArtifact, arguments: [args] }]
    : [
        { title: `Run ${label} remotely`, command: COMMANDS.run, arguments: [args] },
        { title: `Run ${label} as artifact`, command: COMMANDS.runArtifact, arguments: [args] },
      ];
  if (fn.kind === 'submit') commands.unshift(submit);
  else commands.push(submit);
  if (context.cacheServes) {
    const again: RunArguments = { ...args, fresh: true };
    commands.splice(1, 0, { title: `Run ${label} again (ignore cache)`, command: fn.kind === 'artifact' ? COMMANDS.runArtifact : COMMANDS.run, arguments: [again] });
  }
  const target = [{ uri: definedIn, function: fn.name }];
  if (context.inFlight) commands.push({ title: `Cancel run of ${fn.name}`, command: COMMANDS.cancel, arguments: target });
  if (context.record?.ref) {
    const which = call ? [{ uri: definedIn, function: fn.name, call: context.record.call ?? call.key }] : target;
    commands.push({ title: `Dereference last artifact of ${label}`, command: COMMANDS.dereference, arguments: which });
  }
  if (context.hasLog) commands.push({ title: `Show run log of ${fn.name}`, command: COMMANDS.showLog, arguments: target });
  return commands;
}
