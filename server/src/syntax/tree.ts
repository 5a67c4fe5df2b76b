// The syntax-tree surface the analysis reads, stated once so that both parser paths (the native
// `tree-sitter` binding and `web-tree-sitter` on WebAssembly) can stand behind it. Only what the
// code uses (and their plain neighbours) is listed; both libraries' objects have these members
// with the same meaning, which the parser-path tests check by running the analysis on both.

/** A row and a UTF-16 column: both bindings count columns in UTF-16 units for a JS string. */
export interface Point {
  row: number;
  column: number;
}

export interface SyntaxNode {
  readonly type: string;
  readonly text: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: Point;
  readonly endPosition: Point;
  readonly hasError: boolean;
  readonly isMissing: boolean;
  readonly isNamed: boolean;
  readonly parent: SyntaxNode | null;
  readonly children: SyntaxNode[];
  readonly namedChildren: SyntaxNode[];
  readonly childCount: number;
  readonly namedChildCount: number;
  readonly firstChild: SyntaxNode | null;
  readonly firstNamedChild: SyntaxNode | null;
  readonly lastChild: SyntaxNode | null;
  readonly lastNamedChild: SyntaxNode | null;
  readonly nextSibling: SyntaxNode | null;
  readonly nextNamedSibling: SyntaxNode | null;
  readonly previousSibling: SyntaxNode | null;
  readonly previousNamedSibling: SyntaxNode | null;
  child(index: number): SyntaxNode | null;
  namedChild(index: number): SyntaxNode | null;
  childForFieldName(fieldName: string): SyntaxNode | null;
  /** The smallest node that spans `index` (to `endIndex`). */
  descendantForIndex(index: number, endIndex?: number): SyntaxNode | null;
  childrenForFieldName(fieldName: string): SyntaxNode[];
  descendantsOfType(type: string | string[]): SyntaxNode[];
  toString(): string;
}

export interface TreeCursor {
  readonly nodeType: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly currentNode: SyntaxNode;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
}

/** What `Tree.edit` takes: the same shape in both bindings. */
export interface Edit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: Point;
  oldEndPosition: Point;
  newEndPosition: Point;
}

export interface Tree {
  readonly rootNode: SyntaxNode;
  edit(edit: Edit): void;
  walk(): TreeCursor;
}

export interface QueryCapture {
  name: string;
  node: SyntaxNode;
}

export interface QueryMatch {
  captures: QueryCapture[];
}

export interface Query {
  matches(node: SyntaxNode): QueryMatch[];
  captures(node: SyntaxNode): QueryCapture[];
}

/** One chunk of a document: a run of whole top-level statements, parsed on its own. */
export interface ParsedChunk {
  /** The chunk's text; the tree's indexes, rows and columns are relative to it. */
  readonly text: string;
  /** The document line the chunk starts on (always at column 0). */
  readonly row: number;
  /** Stays the same while the chunk's text does: what is derived from its parse is kept under it. */
  readonly key: object;
  readonly tree: Tree;
}
