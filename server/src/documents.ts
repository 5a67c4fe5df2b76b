// The open Python documents: each keeps its text parsed in chunks (one small tree per top-level
// statement run) and the analysis of its current text. Opening or changing a document does a
// bounded amount of work at once (cutting the text and one parse slice); the rest of the parse,
// the summaries of new chunks and the analysis run in `setImmediate` continuations so other
// messages get in between, and a request that reads `analysis` meanwhile finishes that work on the spot.
import type { PythonParser } from './syntax/parser-engine.js';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver/node';
import { analyze, analyzeInSteps, summarizeSome } from './analysis/analyze.js';
import { ARGUMENT_LIST_PREFIX, argumentsOfTree } from './analysis/argument-list.js';
import type { CallArgument, FileAnalysis } from './analysis/model.js';
import type { CompiledQueries } from './syntax/queries.js';
import { SyntaxDocument } from './syntax/parser.js';

/** Argument splits `parseArguments` keeps, and the longest source it keeps one for. */
const KEPT_ARGUMENT_SPLITS = 32;
const MAX_KEPT_ARGUMENTS_LENGTH = 4096;

/**
 * How long one parse slice may run. A keystroke spends one slice inside `didChange` and each
 * continuation one more, so no message waits much longer than this behind a parse.
 */
export const PARSE_SLICE_MS = 2.5;

/**
 * How long one continuation may spend summarizing new chunks (a large file just opened) or moving
 * the summaries of chunks that moved (an Enter near the top of a large file).
 */
export const SUMMARY_SLICE_MS = 4;

export interface OpenDocument {
  readonly uri: string;
  readonly version: number;
  readonly syntax: SyntaxDocument;
  /** The analysis of the current text: reading it finishes any pending parse and analysis. */
  readonly analysis: FileAnalysis;
  /** The analysis of the text alone, before its imports are resolved (computed once per text). */
  readonly raw: FileAnalysis;
}

/**
 * Completes a document's own analysis with what its imports resolve to (the workspace index);
 * `raw` is the analysis of the text alone.
 */
export type AnalysisResolver = (uri: string, syntax: SyntaxDocument, raw: FileAnalysis) => FileAnalysis;

/** Called once the analysis of a change (or of later changes coalesced with it) is ready. */
export type AnalyzedListener = (document: OpenDocument) => void;

class LiveDocument implements OpenDocument {
  version: number;
  /** Invariant: when set, it is the analysis of `syntax.text`. */
  #analysis: FileAnalysis | undefined;
  /** Who to tell when the current text is analysed; cleared once told. */
  listener: AnalyzedListener | undefined;

  constructor(
    readonly uri: string,
    version: number,
    readonly syntax: SyntaxDocument,
    private readonly queries: CompiledQueries,
    private readonly resolver: () => AnalysisResolver | undefined,
  ) {
    this.version = version;
  }

  get analysis(): FileAnalysis {
    if (!this.#analysis) {
      const raw = this.raw;
      this.#analysis = this.resolver()?.(this.uri, this.syntax, raw) ?? raw;
    }
    return this.#analysis;
  }

  get raw(): FileAnalysis {
    if (!this.#raw) {
      const steps = this.#steps ?? analyzeInSteps(this.syntax.chunks, this.syntax.lines, this.queries);
      this.#steps = undefined;
      for (let step = steps.next(); ; step = steps.next()) {
        if (step.done) {
          this.#raw = step.value;
          break;
        }
      }
    }
    return this.#raw;
  }

  #raw: FileAnalysis | undefined;
  /** The analysis of the current text under way in steps (`stepRaw`). */
  #steps: Generator<void, FileAnalysis, void> | undefined;

  /** Whether an analysis in steps is under way (its summaries are all made). */
  get stepping(): boolean {
    return this.#steps !== undefined;
  }

  /** Runs one step of the analysis of the current text; true once `raw` is ready. */
  stepRaw(): boolean {
    if (this.#raw) return true;
    this.#steps ??= analyzeInSteps(this.syntax.chunks, this.syntax.lines, this.queries);
    const step = this.#steps.next();
    if (!step.done) return false;
    this.#steps = undefined;
    this.#raw = step.value;
    return true;
  }

  /** What the imports resolve to may have changed; the text has not. */
  resolvedChanged(): void {
    this.#analysis = undefined;
  }

  get analyzed(): boolean {
    return this.#analysis !== undefined;
  }

  textChanged(): void {
    this.#analysis = undefined;
    this.#raw = undefined;
    // Its summaries are of the old chunks (and may have moved since).
    this.#steps = undefined;
  }
}

export class Documents {
  private readonly open = new Map<string, LiveDocument>();
  /** Set by the session once the workspace index exists. */
  resolver: AnalysisResolver | undefined;

  /**
   * `parser` serves one-shot parses only (argument lists); every open document owns its parser,
   * because a parse paused mid-way lives in the parser that started it.
   */
  constructor(
    private readonly parser: PythonParser,
    private readonly queries: CompiledQueries,
  ) {}

  get(uri: string): OpenDocument | undefined {
    return this.open.get(uri);
  }

  all(): IterableIterator<OpenDocument> {
    return this.open.values();
  }

  /**
   * Opens a document (or reopens it with new text): cuts it into chunks; the parse and the
   * analysis follow in continuations, then `onAnalyzed` is called.
   */
  openDocument(uri: string, version: number, text: string, onAnalyzed?: AnalyzedListener): OpenDocument {
    const document = new LiveDocument(uri, version, new SyntaxDocument(text), this.queries, () => this.resolver);
    this.open.get(uri)?.syntax.dispose();
    this.open.set(uri, document);
    document.listener = onAnalyzed;
    // No parse here: fifty files opened at once would put fifty slices before the next message.
    this.schedule(document);
    return document;
  }

  /**
   * Applies LSP content changes in order (ranged ones as tree edits, full ones as a fresh text)
   * and runs one parse slice. The rest of the parse and the analysis follow in continuations;
   * `onAnalyzed` is called when the analysis of the latest text is ready. Changes that arrive
   * before then restart the parse, and only the last one's listener is called.
   */
  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[], onAnalyzed: AnalyzedListener): OpenDocument | undefined {
    const document = this.open.get(uri);
    if (!document) return undefined;
    for (const change of changes) {
      if ('range' in change) {
        document.syntax.applyEdit({ start: change.range.start, end: change.range.end, text: change.text });
      } else {
        document.syntax.replaceAll(change.text);
      }
    }
    document.version = version;
    document.textChanged();
    document.listener = onAnalyzed;
    // The analysis waits for a continuation even when this slice finishes the parse: it can take
    // ~10 ms on a large file (an Enter near the top moves every cached summary), which would
    // double what a keystroke blocks for.
    document.syntax.continueParse(PARSE_SLICE_MS);
    this.schedule(document, true);
    return document;
  }

  /** Forgets a document and frees its trees. */
  close(uri: string): void {
    this.open.get(uri)?.syntax.dispose();
    this.open.delete(uri);
  }

  /** Forgets every document's resolved analysis: what other files export has changed. */
  invalidateResolved(except?: string): void {
    for (const document of this.open.values()) if (document.uri !== except) document.resolvedChanged();
  }

  /** The compiled queries (shared with the workspace index, so it reuses the same memo). */
  get compiledQueries(): CompiledQueries {
    return this.queries;
  }

  /** Analyses text that is not open in the editor (a file on disk, for the CLI). */
  analyzeText(text: string): { syntax: SyntaxDocument; analysis: FileAnalysis } {
    const syntax = new SyntaxDocument(text);
    return { syntax, analysis: analyze(syntax.chunks, syntax.text, this.queries) };
  }

  /**
   * Splits Python argument source (`"1, b=data"`) as a call site's arguments would be. The same
   * arguments run again and again (a re-run, the CLI daemon's runs), so the last few splits are
   * kept; each caller gets its own copy.
   */
  parseArguments(source: string): CallArgument[] | undefined {
    if (source.trim() === '') return [];
    const kept = this.argumentSplits.get(source);
    if (kept !== undefined) {
      this.argumentSplits.delete(source);
      this.argumentSplits.set(source, kept);
      return kept === 'invalid' ? undefined : structuredClone(kept);
    }
    const tree = this.parser.parse(`${ARGUMENT_LIST_PREFIX}${source})\n`);
    let split: CallArgument[] | undefined;
    try {
      split = argumentsOfTree(tree);
    } finally {
      this.parser.free(tree);
    }
    if (source.length <= MAX_KEPT_ARGUMENTS_LENGTH) {
      this.argumentSplits.set(source, split === undefined ? 'invalid' : structuredClone(split));
      if (this.argumentSplits.size > KEPT_ARGUMENT_SPLITS) this.argumentSplits.delete(this.argumentSplits.keys().next().value!);
    }
    return split;
  }

  private readonly argumentSplits = new Map<string, CallArgument[] | 'invalid'>();

  /**
   * Queues a document's work. One continuation runs at a time, for the document at the front, so
   * fifty files opened at once do not put fifty slices between two messages. A document stays at
   * the front until its work is done, so files being opened are parsed one after the other and
   * only one of them holds its trees at a time (all fifty at once held 200 MB); a changed document
   * (`front`: a keystroke, one statement's work) goes before them.
   */
  private schedule(document: LiveDocument, front = false): void {
    if (front && this.queue.values().next().value !== document) {
      this.queue.delete(document);
      this.queue = new Set([document, ...this.queue]);
    } else {
      this.queue.add(document);
    }
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.turn());
  }

  private queue = new Set<LiveDocument>();
  private turnScheduled = false;

  private turn(): void {
    this.turnScheduled = false;
    const next = this.queue.values().next();
    if (next.done) return;
    let more = false;
    try {
      more = this.advance(next.value);
    } finally {
      if (!more) this.queue.delete(next.value);
      if (this.queue.size > 0 && !this.turnScheduled) {
        this.turnScheduled = true;
        setImmediate(() => this.turn());
      }
    }
  }

  /**
   * Parses chunks one at a time for about a summary slice, summarizing each and dropping its tree
   * at once, so a large file never holds its trees and none lives long enough to be promoted
   * (`SyntaxDocument.dropParsedTrees` says why that matters). A chunk larger than the slice is
   * parsed over several continuations.
   */
  private parseAndSummarize(syntax: SyntaxDocument): void {
    const deadline = performance.now() + SUMMARY_SLICE_MS;
    const timeUp = (): boolean => performance.now() > deadline;
    do {
      syntax.continueParse(Math.max(0.1, deadline - performance.now()), 1);
      const parsed = syntax.parsedSoFar;
      if (parsed.length === 0) continue;
      // Summaries of a chunk are made whole; the clock is looked at between chunks.
      summarizeSome(parsed, this.queries, () => false);
      syntax.dropParsedTrees();
    } while (syntax.pending && !timeUp());
  }

  /**
   * One unit of deferred work per continuation (a parse slice, a summary slice, the analysis, or
   * the listener), so a message that arrived meanwhile runs before the next unit. Returns whether
   * the document has more work.
   */
  private advance(document: LiveDocument): boolean {
    // Closed, or reopened as another document: its work is moot.
    if (this.open.get(document.uri) !== document) return false;
    if (document.syntax.pending) {
      this.parseAndSummarize(document.syntax);
      return true;
    }
    if (!document.analyzed) {
      const deadline = performance.now() + SUMMARY_SLICE_MS;
      const timeUp = (): boolean => performance.now() > deadline;
      if (!document.stepping && !summarizeSome(document.syntax.chunks, this.queries, timeUp)) return true;
      // The analysis in steps for about a slice: on a large file, before its code is optimized
      // (the first keystrokes after the open), it took 20–40 ms at once.
      while (!document.stepRaw()) if (timeUp()) return true;
      void document.analysis;
      // The listener publishes (about as long again on a large file) in a continuation of its own.
      if (document.listener) return true;
    }
    const listener = document.listener;
    document.listener = undefined;
    listener?.(document);
    // The summaries are kept under the chunks' keys now; the trees are most of a document's weight.
    document.syntax.dropTrees();
    return false;
  }
}
