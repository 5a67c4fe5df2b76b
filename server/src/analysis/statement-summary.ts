// Everything the analysis reads from one top-level statement, as plain data. A summary depends
// only on the statement's text, node type and where it starts, so `analyze` memoizes it by text
// and only re-reads the statements an edit touched.

import type * as Parser from '../syntax/tree.js';
import type { CallSite, ModuleImport, SessionBlock } from './model.js';
import type { CompiledQueries } from '../syntax/queries.js';
import { queryNamed } from '../syntax/queries.js';
import { readImports, type ImportClause } from './imports.js';
import { readInstanceCandidates, type InstanceCandidate } from './instances.js';
import { readFunctionCandidates, type FunctionCandidate } from './decorated-functions.js';
import { readCalls } from './call-sites.js';
import { readSessions } from './sessions.js';
import { readModuleImports } from './module-imports.js';
import { readConstructorCalls, type ConstructorCall } from './unfollowed-instances.js';
import { readModuleBindings, type AssignmentInfo, type ModuleNameInfo } from './bindings.js';

/** The plain-data findings of one top-level statement, before the module is put together. */
export interface StatementSummary {
  imports: ImportClause[];
  names: ModuleNameInfo[];
  assignments: AssignmentInfo[];
  instances: InstanceCandidate[];
  functions: FunctionCandidate[];
  calls: CallSite[];
  sessions: SessionBlock[];
  /** Every import in the statement, at any depth. */
  moduleImports: ModuleImport[];
  /** Calls whose callee mentions `Choppa`, wherever they are. */
  constructors: ConstructorCall[];
  /** How often each identifier occurs in the statement. */
  nameCounts: Map<string, number>;
}

/** A summary with nothing in it. */
export function emptySummary(): StatementSummary {
  return {
    imports: [],
    names: [],
    assignments: [],
    instances: [],
    functions: [],
    calls: [],
    sessions: [],
    moduleImports: [],
    constructors: [],
    nameCounts: new Map(),
  };
}

const DEFINITIONS = new Set(['function_definition', 'class_definition', 'decorated_definition']);

/**
 * Reads one top-level statement. `source` is its text (the memo key, passed in so it is sliced
 * once). Queries that cannot match are skipped by a look at the text, which keeps a keystroke
 * cheap. Each reader is guarded on its own, so broken code still yields what the others found.
 */
export function summarizeStatement(
  statement: Parser.SyntaxNode,
  source: string,
  text: string,
  queries: CompiledQueries,
): StatementSummary {
  const summary = emptySummary();
  const type = statement.type;
  if (type === 'comment') return summary;
  const isDefinition = DEFINITIONS.has(type);
  const hasCall = source.includes('(');
  if (!isDefinition && source.includes('import')) {
    summary.imports = guard(() => readImports(statement, queryNamed(queries, 'imports')), []);
  }
  if (source.includes('import')) {
    summary.moduleImports = guard(() => readModuleImports(statement, queryNamed(queries, 'module-imports')), []);
  }
  if (hasCall && source.includes('Choppa')) {
    summary.constructors = guard(() => readConstructorCalls(statement, queryNamed(queries, 'constructor-calls')), []);
  }
  const bindings = guard(() => readModuleBindings(statement), { names: [], assignments: [] });
  summary.names = bindings.names;
  summary.assignments = bindings.assignments;
  if (!isDefinition && hasCall && source.includes('=')) {
    summary.instances = guard(() => readInstanceCandidates(statement, queryNamed(queries, 'instances')), []);
  }
  if (source.includes('@')) {
    summary.functions = guard(() => readFunctionCandidates(statement, text, queryNamed(queries, 'decorators')), []);
  }
  if (hasCall) summary.calls = guard(() => readCalls(statement, queryNamed(queries, 'calls')), []);
  // `m.plain(...)` outside definitions only: inside them nearly every dotted call is a method call.
  if (hasCall && !isDefinition && source.includes('.')) {
    const dotted = guard(() => readCalls(statement, queryNamed(queries, 'module-calls')), []);
    if (dotted.length > 0) summary.calls = [...summary.calls, ...dotted].sort((a, b) => a.span.start.line - b.span.start.line || a.span.start.character - b.span.start.character);
  }
  if (source.includes('session')) {
    summary.sessions = guard(() => readSessions(statement, queryNamed(queries, 'sessions')), []);
  }
  summary.nameCounts = guard(() => countIdentifiers(statement, queryNamed(queries, 'identifiers')), new Map());
  return summary;
}

function countIdentifiers(statement: Parser.SyntaxNode, query: Parser.Query): Map<string, number> {
  const counts = new Map<string, number>();
  for (const capture of query.captures(statement)) {
    const name = capture.node.text;
    // An attribute or keyword name is captured twice, as an identifier and as what it is, and
    // so counts for nothing: `h.scale` does not use a module-level `scale`.
    counts.set(name, (counts.get(name) ?? 0) + (capture.name === 'reference' ? 1 : -1));
  }
  return counts;
}

// A reader that throws on some odd tree is our bug; it must not cost the user the rest.
function guard<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
