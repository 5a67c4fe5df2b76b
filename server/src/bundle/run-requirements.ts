// Whether a run carries the project's requirements: only when the function, or the project code
// shipped with it, imports something that is not a project module. The runner judges the rest:
// it installs the lines only when one of those imports is missing where the run happens (the
// standard library and the cluster's own packages need nothing).
import type { WorkspaceIndex } from '../workspace-index/workspace-index.js';
import { functionClosure } from './module-closure.js';
import { readRequirements, requirementsFolder } from './requirements.js';

export function requirementsFor(
  index: WorkspaceIndex | undefined,
  filePath: string,
  functionName: string,
  root: string | null,
  file: string | null,
): { hash: string; lines: string[]; imports: string[] } | undefined | { failure: string } {
  if (!index) return undefined;
  const external = index.pass(() => functionClosure(index, filePath, functionName).external);
  if (external.length === 0) return undefined;
  const found = readRequirements(requirementsFolder(filePath, root, file), file);
  if (!found || 'failure' in found) return found;
  return { hash: found.hash, lines: found.lines, imports: external };
}
