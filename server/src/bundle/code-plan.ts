// Everything a run needs besides the function itself: the bundle of project modules it imports,
// the project's requirements when the shipped code imports third-party packages, and those
// third-party names, which the warm context is asked about before the run.
import type { WorkspaceIndex } from '../workspace-index/workspace-index.js';
import { buildBundle, type CodeBundle } from './code-bundle.js';
import { distributionsOf, normalizedProject } from './distribution-names.js';
import { functionClosure } from './module-closure.js';
import { requirementsFor } from './run-requirements.js';

export interface CodePlan {
  bundle?: CodeBundle;
  requirements?: { hash: string; lines: string[]; imports: string[] };
  /** Third-party top-level modules the shipped code imports. */
  external: string[];
}

export function planCode(
  index: WorkspaceIndex | undefined,
  filePath: string,
  functionName: string,
  options: { artifactDir: string; root: string | null; requirementsFile: string | null },
): CodePlan | { failure: string; type: string } {
  if (!index) return { external: [] };
  return index.pass(() => {
    const bundle = buildBundle(index, filePath, functionName, options.artifactDir);
    if (bundle && 'failure' in bundle) return { failure: bundle.failure, type: 'ChoppaCodeError' };
    const requirements = requirementsFor(index, filePath, functionName, options.root, options.requirementsFile);
    if (requirements && 'failure' in requirements) return { failure: requirements.failure, type: 'ChoppaRequirementsError' };
    const external = bundle?.external ?? functionClosure(index, filePath, functionName).external;
    return { ...(bundle ? { bundle } : {}), ...(requirements ? { requirements } : {}), external };
  });
}

/**
 * Whether a requirement line declares the top-level module `name`: a project of that name, or one
 * known to provide it (`scikit-learn` for `sklearn`), names compared as pip does.
 */
export function declares(lines: readonly string[], name: string): boolean {
  const providers = new Set([name, ...distributionsOf(name)].map(normalizedProject));
  return lines.some((line) => {
    const project = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(line)?.[0];
    return project !== undefined && providers.has(normalizedProject(project));
  });
}
