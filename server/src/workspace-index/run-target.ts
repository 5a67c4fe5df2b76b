// Which function a run of `name` in a file means, wherever it is defined: a function decorated
// in the file itself (by a local or an imported instance), or a decorated function imported from
// another module (a call site here of `from analytics.jobs import plain`). Pure.

import type { DecoratedFunction, FileAnalysis, InstanceSettings } from '../analysis/model.js';
import { instanceAtDecorator } from '../analysis/instances.js';

export interface RunTarget {
  fn: DecoratedFunction;
  /** The settings of the instance that decorates it, when known. */
  instance: InstanceSettings | undefined;
  /** The file that defines the function (results are kept under it). */
  definedIn: string;
}

export function runTarget(analysis: FileAnalysis, name: string, filePath: string): RunTarget | undefined {
  const fn = analysis.functions.find((candidate) => candidate.name === name);
  if (fn) {
    const instance = instanceAtDecorator(analysis, fn.instance, fn.decoratorSpan.start);
    return { fn, instance, definedIn: filePath };
  }
  const imported = analysis.importedFunctions.find((candidate) => candidate.name === name);
  if (!imported) return undefined;
  return { fn: imported.fn, instance: imported.instance, definedIn: imported.path };
}
