// The plain data that analysis produces from one Python file: Choppa instances, decorated
// functions, call sites, session blocks and problems. No LSP types and no I/O live here;
// positions are 0-based lines and UTF-16 columns, exactly what LSP wants.

/** A 0-based position: line and UTF-16 code-unit column. */
export interface Pos {
  line: number;
  character: number;
}

/** A half-open range in the document. */
export interface Span {
  start: Pos;
  end: Pos;
}

/** The three ways a Choppa decorator runs a function. */
export type RunKind = 'remote' | 'artifact' | 'submit';

/**
 * A constant read from a `Choppa(...)` constructor: the value when it is a literal the
 * analysis can evaluate (`None` is `null`), or `undefined` when the argument is absent or
 * not constant (then `dynamic` names it).
 */
export interface ChoppaInstance {
  /** The variable the instance is bound to (`dutch`). */
  name: string;
  /** The whole `Choppa(...)` call. */
  callSpan: Span;
  /** The assignment target. */
  nameSpan: Span;
  clusterId?: string | null;
  artifactDir?: string | null;
  /** `result_size_max` or its alias `max_result_size`, in bytes. */
  resultSizeMax?: number | null;
  /** Keyword arguments present but not constant, so the analysis cannot know them. */
  dynamic: string[];
}

export type ParamKind = 'positional' | 'keyword' | 'varargs' | 'kwargs';

export interface Param {
  name: string;
  kind: ParamKind;
  hasDefault: boolean;
  span: Span;
}

/** A module-level function decorated by a Choppa instance. */
export interface DecoratedFunction {
  name: string;
  kind: RunKind;
  /** The name of the Choppa instance in the decorator. */
  instance: string;
  /** The function's name identifier. */
  nameSpan: Span;
  /** The Choppa decorator (`@dutch.remote()`). */
  decoratorSpan: Span;
  /** From the first decorator to the end of the body. */
  span: Span;
  /** The line of the `def` keyword: line 1 of `source`. */
  defLine: number;
  /**
   * The text shipped to the runner: the function from `def` to the end of its body, with no
   * decorators, in the document's own text (line endings normalised to `\n`).
   */
  source: string;
  params: Param[];
  /** The decorator line carries `# choppa: cache`: repeated calls may be served from the cache. */
  cacheOptIn: boolean;
}

/** A literal or a name as it appears in a call's argument list. */
export interface CallArgument {
  /** Keyword name, or undefined for a positional argument. */
  keyword?: string;
  /** Set when the value is a bare identifier (a candidate for chaining). */
  identifier?: string;
  /** The argument's value source text (`[1, 2]`, `data`). */
  text: string;
  /** `*x` or `**x`. */
  splat?: '*' | '**';
  span: Span;
}

/** A call of a decorated function in the same file. */
export interface CallSite {
  function: string;
  /** The whole call expression. */
  span: Span;
  /** The callee identifier. */
  nameSpan: Span;
  /** The text between the parentheses, as written. */
  argsSource: string;
  args: CallArgument[];
  /** `data` in `data = get_stuff()`: a later call can pass the result along. */
  boundTo?: string;
  /** The call's identity among calls of the same function: its arguments, normalised (`callKey`). */
  key: string;
}

/** A `with inst.session():` block. */
export interface SessionBlock {
  instance: string;
  span: Span;
}

/** An assignment of a module-level name, so argument resolution can find the latest binding. */
export interface Binding {
  name: string;
  span: Span;
  /** When the value is a call to a decorated function, that function's name. */
  callOf?: string;
  /** That call: its arguments (`CallSite.key`), the bare names among them, where it is and its argument text. */
  call?: { key: string; names: string[]; span: Span; argsSource: string };
  /**
   * When the value is a literal (`["emea", "amer"]`, `10 * 1024`), its Python source as the
   * runner may `ast.literal_eval` it: such a module constant is passed by value.
   */
  literal?: string;
  /** The clause block it is in when it runs only in some runs of the module (`if DEBUG:`, a loop, `except`). */
  branch?: Span;
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface TextEdit {
  span: Span;
  newText: string;
}

/** A quick fix: a titled set of edits to this one document. */
export interface Fix {
  title: string;
  edits: TextEdit[];
  /** True for the fix an editor may apply without asking. */
  preferred?: boolean;
}

export type ProblemCode =
  | 'free-name'
  | 'instance-not-followed'
  | 'async-not-supported'
  | 'method-not-supported'
  | 'nested-not-supported'
  | 'decorator-not-shipped'
  | 'function-redefined'
  | 'function-ambiguous'
  | 'instance-ambiguous';

/** A finding of the analysis, before it becomes an LSP diagnostic. */
export interface Problem {
  code: ProblemCode;
  severity: Severity;
  message: string;
  span: Span;
  /** The decorated function the problem belongs to. */
  function?: string;
  fixes: Fix[];
}

/**
 * One imported name (or module) of an `import` statement anywhere in the file, as plain data
 * for the workspace index: `from ..a.b import c as d` is `{module: 'a.b', level: 2, name: 'c',
 * bound: 'd'}`; `import a.b` is `{module: 'a.b', level: 0, bound: 'a'}`; `from m import *` has
 * `name: '*'`.
 */
export interface ModuleImport {
  module: string;
  /** Leading dots of a relative import (0 for an absolute one). */
  level: number;
  /** The name imported from `module` (`from m import name`). */
  name?: string;
  /** The name the import binds in its scope. */
  bound: string;
  /** True for an import at module level (the ones other modules can re-export). */
  moduleLevel: boolean;
  /** The top-level function the import is inside, if any (what ships with that function). */
  within?: string;
  /** Where the import statement starts. */
  at: Pos;
  /** An `importlib.import_module("pkg.mod")` or `__import__("pkg.mod")` call: it binds no name. */
  dynamic?: true;
  /** Inside a `try:` that catches `ImportError` (or wider): the code goes on without the module. */
  optional?: true;
}

/** The constant settings of a `Choppa(...)` call, wherever it is defined. */
export type InstanceSettings = Pick<ChoppaInstance, 'clusterId' | 'artifactDir' | 'resultSizeMax' | 'dynamic'>;

/** A Choppa instance defined in another module and reachable by a name of this file. */
export interface ImportedInstance extends InstanceSettings {
  /** How this file names it: `dc`, `d`, `m.dc`. */
  name: string;
  /** The module that defines it (`analytics.cluster`) and its name there. */
  module: string;
  definedAs: string;
  /** The defining file and the line of its `Choppa(...)` call. */
  path: string;
  line: number;
}

/** A decorated function defined in another module and imported into this file by name. */
export interface ImportedFunction {
  /** The name it is bound to in this file. */
  name: string;
  module: string;
  /** The defining file. */
  path: string;
  /** The function as analysed in its own file (spans are in that file). */
  fn: DecoratedFunction;
  /** The settings of the instance that decorates it, when the analysis could read them. */
  instance?: InstanceSettings;
}

/**
 * What the workspace index found this file's imports to be, handed to the analysis as plain
 * data so it stays free of I/O: instances and decorated functions of other modules.
 */
export interface ImportFacts {
  instances: ImportedInstance[];
  functions: ImportedFunction[];
}

/** Everything the server knows about one file. */
export interface FileAnalysis {
  instances: ChoppaInstance[];
  functions: DecoratedFunction[];
  calls: CallSite[];
  sessions: SessionBlock[];
  bindings: Binding[];
  problems: Problem[];
  /** Every import of the file (for the workspace index and the bundle). */
  imports: ModuleImport[];
  /**
   * Module-level functions with a `@x.remote`-like decorator, whatever `x` is: the ones that
   * may turn out decorated once imports are resolved.
   */
  decoratedNames: string[];
  /** Instances of other modules that decorate functions here (from `ImportFacts`). */
  importedInstances: ImportedInstance[];
  /** Decorated functions of other modules called here (from `ImportFacts`). */
  importedFunctions: ImportedFunction[];
}
