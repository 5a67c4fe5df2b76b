// The cluster problems of each `Choppa(...)` line, from the workspace's cached cluster list (read
// synchronously; a stale list is refreshed in the background and the server republishes when it
// changed), on the cluster id string when the code names one.
import type { Diagnostic } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from './lsp-runtime.js';
import type { FileAnalysis } from '../analysis/model.js';
import { clusterProblems } from '../clusters/cluster-problems.js';
import { localPythonVersion } from '../clusters/local-python.js';
import type { Session } from '../session.js';
import { pythonCommand } from '../platform/host-paths.js';
import { clusterScope, instanceStrings } from './cluster-scope.js';
import { toRange } from './convert.js';

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, information: DiagnosticSeverity.Information } as const;

/** The local Python version once known (asked once; the server republishes when it arrives). */
const localPython = new Map<string, string | undefined>();

export function clusterDiagnostics(session: Session, path: string, analysis: FileAnalysis, lineOf: (line: number) => string | undefined): Diagnostic[] {
  if (analysis.instances.length === 0) return [];
  const scope = clusterScope(session, path);
  if (!scope) return [];
  if (scope.catalog.stale) void scope.catalog.list();
  const snapshot = scope.catalog.snapshot();
  if (!snapshot) return [];
  const python = pythonCommand(session.settings.pythonPath, process.platform);
  if (!localPython.has(python)) {
    localPython.set(python, undefined);
    void localPythonVersion(python).then((version) => {
      localPython.set(python, version);
      if (version !== undefined) for (const listener of session.clusterCatalogs.changeListeners) listener();
    });
  }
  const diagnostics: Diagnostic[] = [];
  for (const instance of analysis.instances) {
    const clusterId = scope.workspace.backends.clusterIdFor(instance);
    if (clusterId === undefined) continue;
    const written = instanceStrings(lineOf, instance).find((found) => found.keyword === 'cluster_id' && found.value === clusterId);
    const range = written ? { start: written.start, end: written.end } : instance.callSpan;
    const problems = clusterProblems(clusterId, snapshot, { autoStart: session.settings.autoStartCluster, localPython: localPython.get(python) });
    for (const problem of problems) {
      diagnostics.push({ range: toRange(range), severity: SEVERITY[problem.severity], source: 'choppa', code: problem.code, message: problem.message });
    }
  }
  return diagnostics;
}
