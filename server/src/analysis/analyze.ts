// Puts a file's analysis together: summaries of each top-level statement (memoized by text, so a
// keystroke re-reads only what it touched) resolved against the module as a whole (which names
// are Choppa instances, which functions they decorate, what each module-level name is).
// Pure and total: any input, however broken, yields a FileAnalysis.

import type * as Parser from '../syntax/tree.js';
import type { Binding, CallSite, ChoppaInstance, DecoratedFunction, FileAnalysis, ImportFacts, Pos, Problem, TextEdit } from './model.js';
import type { AssignmentInfo } from './bindings.js';
import type { CompiledQueries } from '../syntax/queries.js';
import { lineStarts, offsetAt, positionAt } from '../syntax/line-index.js';
import { comparePos, copyShifted, shiftLines, shiftLinesInPlace, spanContains, spanWithin } from './positions.js';
import { emptySummary, summarizeStatement, type StatementSummary } from './statement-summary.js';
import { recoverStatement } from './statement-recovery.js';
import { argumentNames } from './call-sites.js';
import { choppaNames, type ImportClause } from './imports.js';
import { ambiguousInstance, instanceSpan, isChoppaConstructor, resolveInstances } from './instances.js';
import { unfollowedProblems } from './unfollowed-instances.js';
import { resolveFunctions, type FunctionCandidate } from './decorated-functions.js';
import { redefinedFunctions } from './redefined-functions.js';
import { lintFunction, type ModuleContext, type ModuleNameKind } from './scope-lint.js';

interface MemoEntry {
  row: number;
  column: number;
  /** The node type: the same text can parse differently (an `ERROR` node) in another context. */
  type: string;
  /** Whether the statement held an `ERROR` or `MISSING` node when it was read. */
  hasError: boolean;
  summary: StatementSummary;
  generation: number;
}

const GENERATION_KEY = '\u0000generation';
const LINT_KEY = '\u0000lint';
const CHUNK_KEY = '\u0000chunks';
// Past this many entries, the memo drops what the last few analyses did not use.
const MEMO_LIMIT = 20_000;
const MEMO_KEEP_GENERATIONS = 20;

/** An analysis with nothing in it. */
export function emptyAnalysis(): FileAnalysis {
  return { instances: [], functions: [], calls: [], sessions: [], bindings: [], problems: [], imports: [], decoratedNames: [], importedInstances: [], importedFunctions: [] };
}

/**
 * Analyzes one parsed Python file. Never throws: broken or half-typed code yields whatever can
 * be found. Results of unchanged top-level statements are reused from `queries.memo`. `facts`
 * are what the workspace index resolved this file's imports to (instances and decorated
 * functions of other modules).
 */
export function analyze(tree: Parser.Tree, text: string, queries: CompiledQueries, facts?: ImportFacts): FileAnalysis;
/**
 * The same for a document parsed in chunks, whose text may be given as its lines (`lineOf`, as
 * `SyntaxDocument.lineText` reads them): the analysis reads only the few lines it needs.
 */
export function analyze(chunks: readonly Parser.ParsedChunk[], text: string | LineOf, queries: CompiledQueries, facts?: ImportFacts): FileAnalysis;
export function analyze(tree: Parser.Tree | readonly Parser.ParsedChunk[], text: string | LineOf, queries: CompiledQueries, facts?: ImportFacts): FileAnalysis {
  try {
    const summaries = Array.isArray(tree) ? summarizeChunks(tree as readonly Parser.ParsedChunk[], queries) : summarize(tree as Parser.Tree, text as string, queries);
    return combine(summaries, typeof text === 'string' ? linesOf(text) : text, queries.memo, facts);
  } catch {
    return emptyAnalysis();
  }
}

/** Line `line` of a text without its `\n` (a `\r` before it stays), or undefined past the last line. */
export type LineOf = (line: number) => string | undefined;

function linesOf(text: string): LineOf {
  let starts: number[] | undefined;
  return (line) => {
    starts ??= lineStarts(text);
    const from = starts[line];
    if (from === undefined) return undefined;
    const next = starts[line + 1];
    return text.slice(from, next === undefined ? text.length : next - 1);
  };
}

interface ChunkEntry {
  row: number;
  summaries: StatementSummary[];
}

// A chunk moved to `row`: its summaries are a tree of objects of their own (`summarizeChunk` makes
// them so), so their positions move in place, and an Enter near the top of a large file allocates
// nothing per chunk below it. Analyses put together earlier share these objects: their positions
// follow the chunk (they are superseded by then; readers take the current one).
function moveEntry(entry: ChunkEntry, row: number): void {
  shiftLinesInPlace(entry.summaries, row - entry.row);
  entry.row = row;
}

// Keyed by the chunk's key, which lives as long as its text is a chunk's (or a recently replaced
// one's): an entry goes with it, and the memo never holds more than the open documents' chunks.
function chunkMemoOf(memo: Map<string, unknown>): WeakMap<object, ChunkEntry> {
  let chunks = memo.get(CHUNK_KEY) as WeakMap<object, ChunkEntry> | undefined;
  if (!chunks) {
    chunks = new WeakMap();
    memo.set(CHUNK_KEY, chunks);
  }
  return chunks;
}

/**
 * Summaries of a document parsed in chunks (`SyntaxDocument`). A chunk is parsed on its own, so
 * its summaries depend only on its text and the line it starts on: they are kept with its tree and
 * moved when the chunk moves, and a keystroke reads only the chunk it changed.
 */
function summarizeChunks(chunks: readonly Parser.ParsedChunk[], queries: CompiledQueries): StatementSummary[] {
  const memo = chunkMemoOf(queries.memo);
  const summaries: StatementSummary[] = [];
  for (const chunk of chunks) {
    let entry = memo.get(chunk.key);
    if (!entry) {
      entry = { row: chunk.row, summaries: summarizeChunk(chunk, queries) };
      memo.set(chunk.key, entry);
    } else if (entry.row !== chunk.row) {
      moveEntry(entry, chunk.row);
    }
    for (const summary of entry.summaries) summaries.push(summary);
  }
  return summaries;
}

/** How many moved chunks `summarizeSome` shifts between two looks at the clock. */
const SHIFTS_PER_CLOCK_CHECK = 64;

/**
 * Summarizes chunks the memo does not hold yet, and moves the summaries of chunks that moved
 * (an Enter near the top of a 30,000-line file moves 10,000 of them), until `timeUp()` says stop,
 * so that work can run in slices; `analyze` then only puts the module together. Returns true
 * when every chunk is summarized at its row. Never throws.
 */
export function summarizeSome(chunks: readonly Parser.ParsedChunk[], queries: CompiledQueries, timeUp: () => boolean): boolean {
  try {
    const memo = chunkMemoOf(queries.memo);
    let shifted = 0;
    // Each call does some work before it looks at the clock, so slices always make progress.
    let summarized = 0;
    for (const chunk of chunks) {
      const entry = memo.get(chunk.key);
      if (entry === undefined) {
        if (summarized++ > 0 && timeUp()) return false;
        memo.set(chunk.key, { row: chunk.row, summaries: summarizeChunk(chunk, queries) });
      } else if (entry.row !== chunk.row) {
        if (++shifted % SHIFTS_PER_CLOCK_CHECK === 0 && timeUp()) return false;
        moveEntry(entry, chunk.row);
      }
    }
  } catch {
    // `analyze` reads what is left.
  }
  return true;
}

// The statements of one chunk, with rows in the document: each summary a copy (a tree of objects
// of its own, which `moveEntry` may change in place; the readers may share parts of what they return).
function summarizeChunk(chunk: Parser.ParsedChunk, queries: CompiledQueries): StatementSummary[] {
  const summaries: StatementSummary[] = [];
  let starts: number[] | undefined;
  for (const node of chunk.tree.rootNode.children) {
    const startIndex = node.startIndex;
    const source = chunk.text.slice(startIndex, node.endIndex);
    const local = startIndex === 0 ? 0 : positionAt((starts ??= lineStarts(chunk.text)), startIndex).line;
    let summary: StatementSummary;
    try {
      // A broken statement is cut where later top-level statements start, so its error stays local.
      const recovered = recoverStatement(node, source, chunk.row + local, queries);
      summary = recovered ? copyShifted(recovered, 0) : copyShifted(summarizeStatement(node, source, chunk.text, queries), chunk.row);
    } catch {
      summary = emptySummary();
    }
    summaries.push(summary);
  }
  return summaries;
}

function summarize(tree: Parser.Tree, text: string, queries: CompiledQueries): StatementSummary[] {
  const memo = queries.memo;
  const generation = ((memo.get(GENERATION_KEY) as number | undefined) ?? 0) + 1;
  memo.set(GENERATION_KEY, generation);
  const summaries: StatementSummary[] = [];
  const cursor = tree.walk();
  if (!cursor.gotoFirstChild()) return summaries;
  // Rows and columns come from a line table of the text: cheaper than asking the binding for
  // a point per statement, and exactly what tree-sitter would report (only `\n` starts a row).
  const starts = lineStarts(text);
  // Invariant: in a tree without errors, a top-level statement's parse depends only on its text
  // and column, so an entry read without errors can be reused without asking for the node type
  // (one native call per statement saved). With errors anywhere, the types must also agree.
  const treeHasError = tree.rootNode.hasError;
  let line = 0;
  do {
    const startIndex = cursor.startIndex;
    const source = text.slice(startIndex, cursor.endIndex);
    while (line + 1 < starts.length && (starts[line + 1] ?? Infinity) <= startIndex) line++;
    const row = line;
    const column = startIndex - (starts[line] ?? 0);
    let entry = memo.get(source) as MemoEntry | undefined;
    if (entry && entry.column === column && (treeHasError ? entry.type === cursor.nodeType : !entry.hasError)) {
      if (entry.row !== row) {
        entry.summary = shiftLines(entry.summary, row - entry.row);
        entry.row = row;
      }
    } else {
      const node = cursor.currentNode;
      let summary: StatementSummary;
      try {
        // A broken statement is cut where later top-level statements start, so its error stays local.
        summary = recoverStatement(node, source, row, queries) ?? summarizeStatement(node, source, text, queries);
      } catch {
        summary = emptySummary();
      }
      entry = { row, column, type: node.type, hasError: node.hasError, summary, generation };
      memo.set(source, entry);
    }
    entry.generation = generation;
    summaries.push(entry.summary);
  } while (cursor.gotoNextSibling());
  if (memo.size > MEMO_LIMIT) evict(memo, generation);
  return summaries;
}

function evict(memo: Map<string, unknown>, generation: number): void {
  for (const [key, value] of memo) {
    if (key === GENERATION_KEY || key === LINT_KEY || key === CHUNK_KEY) continue;
    if ((value as MemoEntry).generation < generation - MEMO_KEEP_GENERATIONS) memo.delete(key);
  }
}

const KIND_RANK: Record<ModuleNameKind, number> = { instance: 0, import: 1, function: 2, class: 3, global: 4 };

function lintSignature(candidate: FunctionCandidate, context: ModuleContext): string {
  // Nothing of the function's own position: a candidate moved in place keeps its identity and its
  // cached problems move with it, because their positions are the candidate's own objects (the
  // spans of its uses, its insert points). The only others are an import's removal edit, which the
  // import's position below stands for. (An Enter near the top of a 30k-line file would otherwise
  // redo the lint of 800 functions; test/analysis/incremental.test.ts moves problems in place.)
  let signature = '';
  const seen = new Set<string>();
  for (const { name } of candidate.free) {
    if (seen.has(name)) continue;
    seen.add(name);
    const kind = context.kindOf(name);
    if (!kind) continue;
    signature += `${name}:${kind};`;
    if (kind !== 'import') continue;
    const clause = context.importOf(name);
    if (!clause) continue;
    const at = clause.removal.span.start;
    // The removal edit reads the text around the import (a `;` neighbour, a lone line), which
    // can change while the import's own text and position stay the same.
    const removal = context.removalEdit(clause).span;
    signature += `${clause.statementText}@${at.line}:${at.character}:${context.usedElsewhere(name, candidate)}:`;
    signature += `${removal.start.line}:${removal.start.character}-${removal.end.line}:${removal.end.character};`;
  }
  return signature;
}

function lintCacheOf(memo: Map<string, unknown>): WeakMap<FunctionCandidate, { signature: string; problems: Problem[] }> {
  let cache = memo.get(LINT_KEY) as WeakMap<FunctionCandidate, { signature: string; problems: Problem[] }> | undefined;
  if (!cache) {
    cache = new WeakMap();
    memo.set(LINT_KEY, cache);
  }
  return cache;
}

function combine(summaries: StatementSummary[], lineOf: LineOf, memo: Map<string, unknown>, facts: ImportFacts | undefined): FileAnalysis {
  return drain(combineSteps(summaries, lineOf, memo, facts));
}

function drain<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The analysis of a document parsed in chunks, in steps: each `next()` does a part (the
 * summaries, the module's names, its functions and problems, its calls and bindings, the lint),
 * so a caller can let other messages in between on a large file, whose analysis before its code is
 * optimized (the first keystrokes after the open) took 20–40 ms at once. Run to the end, it gives
 * what `analyze` gives; it must be dropped once the chunks change. Never throws: a step that
 * would ends it with an empty analysis.
 */
export function* analyzeInSteps(chunks: readonly Parser.ParsedChunk[], lineOf: LineOf, queries: CompiledQueries, facts?: ImportFacts): Generator<void, FileAnalysis, void> {
  let steps: Generator<void, FileAnalysis, void> | undefined;
  try {
    const summaries = summarizeChunks(chunks, queries);
    yield;
    steps = combineSteps(summaries, lineOf, queries.memo, facts);
  } catch {
    return emptyAnalysis();
  }
  for (;;) {
    let step: IteratorResult<void, FileAnalysis>;
    try {
      step = steps.next();
    } catch {
      return emptyAnalysis();
    }
    if (step.done) return step.value;
    yield;
  }
}

/** How many summaries, or functions to lint, one step of `analyzeInSteps` goes through at most. */
const STEP_SUMMARIES = 1_000;
const STEP_FUNCTIONS = 200;

function* combineSteps(summaries: StatementSummary[], lineOf: LineOf, memo: Map<string, unknown>, facts: ImportFacts | undefined): Generator<void, FileAnalysis, void> {
  const lintCache = lintCacheOf(memo);
  const imports: ImportClause[] = [];
  const kinds = new Map<string, ModuleNameKind>();
  const setKind = (name: string, kind: ModuleNameKind): void => {
    const current = kinds.get(name);
    if (current === undefined || KIND_RANK[kind] < KIND_RANK[current]) kinds.set(name, kind);
  };
  let done = 0;
  for (const summary of summaries) {
    if (++done % STEP_SUMMARIES === 0) yield;
    for (const clause of summary.imports) {
      imports.push(clause);
      setKind(clause.bound, 'import');
    }
    for (const { name, kind } of summary.names) setKind(name, kind);
  }
  yield;
  const choppa = choppaNames(imports);
  const instances = resolveInstances(
    collect(summaries, (summary) => summary.instances),
    choppa,
  );
  const instanceNames = new Set(instances.map((instance) => instance.name));
  for (const name of instanceNames) setKind(name, 'instance');
  // Imported ones decorate too; they keep their `import` kind for the scope lint.
  for (const imported of facts?.instances ?? []) if (!instanceNames.has(imported.name)) instanceNames.add(imported.name);

  const candidates = collect(summaries, (summary) => summary.functions);
  const { functions: allResolved, problems } = resolveFunctions(candidates, instanceNames);
  // Python keeps the last `def` of a name: an earlier one must never be what a run ships.
  const redefined = redefinedFunctions(candidates);
  // A function decorated with an instance bound in branches would run on a guessed cluster: none.
  const moduleImports = collect(summaries, (summary) => summary.moduleImports);
  const bound = { instances, importedInstances: facts?.instances ?? [], imports: moduleImports };
  const ambiguity = new Map<string, number[] | undefined>();
  const ambiguousLines = (fn: DecoratedFunction): number[] | undefined => {
    if (!ambiguity.has(fn.instance)) ambiguity.set(fn.instance, ambiguousInstance(bound, fn.instance));
    return ambiguity.get(fn.instance);
  };
  const resolved = allResolved.filter(({ candidate, fn }) => !redefined.replaced.has(candidate) && ambiguousLines(fn) === undefined);
  for (const problem of redefined.problems) problems.push(problem);
  for (const { fn, candidate } of resolved.length === allResolved.length ? [] : allResolved) {
    const lines = ambiguousLines(fn);
    if (!lines || redefined.replaced.has(candidate)) continue;
    problems.push({
      code: 'instance-ambiguous',
      severity: 'warning',
      span: fn.nameSpan,
      function: fn.name,
      fixes: [],
      message: `\`${fn.instance}\` is bound to a Choppa instance at lines ${lines.slice(0, -1).join(', ')} and ${lines.at(-1)}, not all at the top level: which one decorates \`${fn.name}\` is decided when the module runs, so choppa does not run it. Bind each instance to a name of its own.`,
    });
  }
  const functionNames = new Set(resolved.map(({ fn }) => fn.name));
  // `m.plain(...)` counts when `m` is a name the module imports (`import pkg.jobs as m`).
  for (const imported of facts?.functions ?? []) if (kinds.get(imported.name.split('.')[0]!) === 'import') functionNames.add(imported.name);
  const calls: CallSite[] = [];
  const analysis: FileAnalysis = {
    instances,
    functions: resolved.map(({ fn }) => fn),
    calls,
    sessions: [],
    bindings: [],
    problems,
    imports: moduleImports,
    decoratedNames: decoratedNamesOf(summaries),
    importedInstances: facts?.instances ?? [],
    importedFunctions: facts?.functions ?? [],
  };
  problems.push(...unfollowedProblems(collect(summaries, (summary) => summary.constructors), instances, (callee) => isChoppaConstructor(callee, choppa)));
  yield;
  for (const summary of summaries) {
    if (++done % STEP_SUMMARIES === 0) yield;
    for (const call of summary.calls) if (functionNames.has(call.function)) calls.push(call);
    for (const session of summary.sessions) if (instanceNames.has(session.instance)) analysis.sessions.push(session);
    for (const assignment of summary.assignments) analysis.bindings.push(bindingOf(assignment, summary.calls, functionNames));
  }
  yield;
  const context = moduleContext(summaries, imports, kinds, lineOf);
  for (const { fn, candidate } of resolved) {
    if (++done % STEP_FUNCTIONS === 0) yield;
    // The lint of a function only changes with the function or with what its free names are.
    const signature = lintSignature(candidate, context);
    let cached = lintCache.get(candidate);
    if (!cached || cached.signature !== signature) {
      cached = { signature, problems: lintFunction(fn, candidate, context) };
      lintCache.set(candidate, cached);
    }
    for (const problem of cached.problems) problems.push(problem);
  }
  problems.sort((a, b) => comparePos(a.span.start, b.span.start));
  return analysis;
}

// What `flatMap` does, without its cost per summary (thousands of summaries on every keystroke).
function collect<T>(summaries: readonly StatementSummary[], pick: (summary: StatementSummary) => readonly T[]): T[] {
  const all: T[] = [];
  for (const summary of summaries) for (const item of pick(summary)) all.push(item);
  return all;
}

function decoratedNamesOf(summaries: readonly StatementSummary[]): string[] {
  const names: string[] = [];
  for (const summary of summaries) for (const candidate of summary.functions) if (candidate.scope.kind === 'module') names.push(candidate.name);
  return names;
}

// `big = load(1000)` binds `big` to that very call (not to `load`'s latest result), and
// `REGIONS = ["emea", "amer"]` to its literal.
function bindingOf(assignment: AssignmentInfo, calls: readonly CallSite[], functionNames: ReadonlySet<string>): Binding {
  const callsFunction = assignment.rhsCall !== undefined && functionNames.has(assignment.rhsCall);
  const kept = bindingsOf.get(assignment);
  if (kept && kept.callsFunction === callsFunction) return kept.binding;
  const binding: Binding = { name: assignment.name, span: assignment.span };
  if (assignment.literal !== undefined) binding.literal = assignment.literal;
  if (assignment.branch) binding.branch = assignment.branch;
  if (callsFunction) {
    binding.callOf = assignment.rhsCall;
    const call = calls.find((candidate) => candidate.boundTo === assignment.name && candidate.function === assignment.rhsCall && spanContains(assignment.span, candidate.span.start));
    if (call) binding.call = { key: call.key, names: argumentNames(call.args), span: call.span, argsSource: call.argsSource };
  }
  bindingsOf.set(assignment, { callsFunction, binding });
  return binding;
}

/**
 * Each assignment's binding, kept while the assignment is the same object (its chunk's summaries
 * are kept until the chunk's text changes, and `calls` are the same summary's) and whether it calls
 * a decorated function has not changed: a keystroke in a 30k-line file made 1,600 of them anew.
 * Its positions are the assignment's and the call's own objects, which move with their chunk.
 */
const bindingsOf = new WeakMap<AssignmentInfo, { callsFunction: boolean; binding: Binding }>();

function moduleContext(
  summaries: readonly StatementSummary[],
  imports: readonly ImportClause[],
  kinds: ReadonlyMap<string, ModuleNameKind>,
  lineOf: LineOf,
): ModuleContext {
  const totals = new Map<string, number>();
  return {
    kindOf: (name) => kinds.get(name),
    importOf: (name) => imports.find((clause) => clause.bound === name),
    usedElsewhere(name: string, candidate: FunctionCandidate): boolean {
      let total = totals.get(name);
      if (total === undefined) {
        total = 0;
        for (const summary of summaries) total += summary.nameCounts.get(name) ?? 0;
        totals.set(name, total);
      }
      // One occurrence is the import clause itself.
      return total - (candidate.useCounts.get(name) ?? 0) - 1 > 0;
    },
    removalEdit(clause: ImportClause): TextEdit {
      if (clause.removal.kind === 'edit') return { span: clause.removal.span, newText: clause.removal.newText };
      return removeStatement(clause.removal.span.start, clause.removal.span.end, lineOf);
    },
  };
}

// Deletes a statement without breaking its neighbours: with its `;` when it shares the line,
// with its whole line (and line break) when it is alone on it.
function removeStatement(startPos: Pos, endPos: Pos, lineOf: LineOf): TextEdit {
  const startLine = lineOf(startPos.line) ?? '';
  const endLine = lineOf(endPos.line) ?? '';
  let start: Pos = { line: startPos.line, character: clampToLine(startLine, startPos.character) };
  let end: Pos = { line: endPos.line, character: clampToLine(endLine, endPos.character) };
  const before = startLine.slice(0, start.character);
  const rest = endLine.slice(end.character);
  const semicolonAfter = /^[ \t]*;[ \t]*/.exec(rest);
  const semicolonBefore = /[ \t]*;[ \t]*$/.exec(before);
  if (/^[ \t]*$/.test(before) && /^[ \t]*\r?$/.test(rest)) {
    start = { line: start.line, character: 0 };
    end = lineOf(end.line + 1) === undefined ? { line: end.line, character: endLine.length } : { line: end.line + 1, character: 0 };
  } else if (semicolonAfter && !/^[ \t]*;[ \t]*(#|\r?$)/.test(rest)) {
    end = { line: end.line, character: end.character + semicolonAfter[0].length };
  } else if (semicolonBefore) {
    start = { line: start.line, character: start.character - semicolonBefore[0].length };
  } else if (semicolonAfter) {
    end = { line: end.line, character: end.character + semicolonAfter[0].length };
  }
  return { span: { start, end }, newText: '' };
}

// A column past the end of its line is the end of the line, before any `\r` (as `offsetAt` clamps).
function clampToLine(line: string, character: number): number {
  const length = line.endsWith('\r') ? line.length - 1 : line.length;
  return Math.min(Math.max(0, character), length);
}

/** The decorated function whose span (decorators to end of body) contains `pos`. */
export function functionAt(analysis: FileAnalysis, pos: Pos): DecoratedFunction | undefined {
  return analysis.functions.find((fn) => spanContains(fn.span, pos));
}

/** The innermost call site of a decorated function that contains `pos`. */
export function callAt(analysis: FileAnalysis, pos: Pos): CallSite | undefined {
  let best: CallSite | undefined;
  for (const call of analysis.calls) {
    if (spanContains(call.span, pos) && (!best || spanWithin(call.span, best.span))) best = call;
  }
  return best;
}

/** The Choppa instance whose assignment (from its name to the end of the call) contains `pos`. */
export function instanceAt(analysis: FileAnalysis, pos: Pos): ChoppaInstance | undefined {
  return analysis.instances.find((instance) => spanContains(instanceSpan(instance), pos));
}

/** Problems whose span contains `pos`. */
export function problemsAt(analysis: FileAnalysis, pos: Pos): Problem[] {
  return analysis.problems.filter((problem) => spanContains(problem.span, pos));
}
