// What a run ships comes from the editor's buffers (open buffers win over the disk), so a run from
// an unsaved buffer runs code the file on disk does not hold, and the CLI, a submitted job or a
// colleague would run other code. This finds the shipped files whose saved text differs.
import { readFileSync } from 'node:fs';
import type { DecoratedFunction } from '../analysis/model.js';
import type { WorkspaceIndex } from '../workspace-index/workspace-index.js';
import type { CodePlan } from './code-plan.js';
import { sourceText } from './code-bundle.js';

/**
 * The files among what a run of `fn` ships (its own source in `definedIn`, and each module of its
 * bundle) that are open with text the disk does not have, in that order. A file that cannot be
 * read from disk (new, deleted, renamed) counts as unsaved. Only open files are read.
 */
export function unsavedShippedFiles(index: WorkspaceIndex | undefined, definedIn: string, fn: DecoratedFunction, code: CodePlan): string[] {
  if (!index) return [];
  const unsaved: string[] = [];
  // The function ships as its own source: only that text has to match what is saved.
  if (index.openText(definedIn) !== undefined && !savedText(definedIn)?.includes(fn.source)) unsaved.push(definedIn);
  for (const file of code.bundle?.files ?? []) {
    const open = index.openText(file.source);
    if (open === undefined || unsaved.includes(file.source)) continue;
    if (savedText(file.source) !== sourceText(open)) unsaved.push(file.source);
  }
  return unsaved;
}

function savedText(path: string): string | undefined {
  try {
    return sourceText(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

