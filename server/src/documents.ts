// The open Python documents: each keeps its incrementally edited syntax tree and the analysis
// of its current text. Analysis runs once per change, so every request reads a ready result.
import type Parser from 'tree-sitter';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver/node';
import { analyze } from './analysis/analyze.js';
import { ARGUMENT_LIST_PREFIX, argumentsOfTree } from './analysis/argument-list.js';
import type { CallArgument, FileAnalysis } from './analysis/model.js';
import type { CompiledQueries } from './syntax/queries.js';
import { SyntaxDocument } from './syntax/parser.js';

export interface OpenDocument {
  uri: string;
  version: number;
  syntax: SyntaxDocument;
  analysis: FileAnalysis;
}

export class Documents {
  private readonly open = new Map<string, OpenDocument>();

  constructor(
    private readonly parser: Parser,
    private readonly queries: CompiledQueries,
  ) {}

  get(uri: string): OpenDocument | undefined {
    return this.open.get(uri);
  }

  all(): IterableIterator<OpenDocument> {
    return this.open.values();
  }

  /** Parses a document that was just opened (or reopened with new text). */
  openDocument(uri: string, version: number, text: string): OpenDocument {
    const syntax = new SyntaxDocument(this.parser, text);
    const document = { uri, version, syntax, analysis: analyze(syntax.tree, syntax.text, this.queries) };
    this.open.set(uri, document);
    return document;
  }

  /** Applies LSP content changes in order: ranged ones as tree edits, full ones as a reparse. */
  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): OpenDocument | undefined {
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
    document.analysis = analyze(document.syntax.tree, document.syntax.text, this.queries);
    return document;
  }

  close(uri: string): void {
    this.open.delete(uri);
  }

  /** Analyses text that is not open in the editor (a file on disk, for the CLI). */
  analyzeText(text: string): { syntax: SyntaxDocument; analysis: FileAnalysis } {
    const syntax = new SyntaxDocument(this.parser, text);
    return { syntax, analysis: analyze(syntax.tree, syntax.text, this.queries) };
  }

  /** Splits Python argument source (`"1, b=data"`) as a call site's arguments would be. */
  parseArguments(source: string): CallArgument[] | undefined {
    if (source.trim() === '') return [];
    return argumentsOfTree(this.parser.parse(`${ARGUMENT_LIST_PREFIX}${source})\n`));
  }
}
