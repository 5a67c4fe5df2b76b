// The one place that walks tree-sitter nodes by hand: Python scoping (which names a function
// uses but does not bind, which names a statement binds at module scope) and small structural
// readers. Everything that is a plain pattern lives in `server/queries/*.scm` instead.

import type * as Parser from './tree.js';
import type { Pos, Span } from '../analysis/model.js';

type Node = Parser.SyntaxNode;

/** The node's range as LSP positions (the binding already reports UTF-16 columns). */
export function spanOf(node: Node): Span {
  return { start: posOf(node.startPosition), end: posOf(node.endPosition) };
}

/** A tree-sitter point as an LSP position. */
export function posOf(point: Parser.Point): Pos {
  return { line: point.row, character: point.column };
}

/** Where a definition sits: at module scope, in a class body, or inside a function. */
export interface EnclosingScope {
  kind: 'module' | 'class' | 'function';
  /** The class or function name, when not at module scope. */
  name?: string;
}

/** The nearest class or function around `node` (a lambda counts as a function). */
export function enclosingScope(node: Node): EnclosingScope {
  for (let parent = node.parent; parent; parent = parent.parent) {
    const type = parent.type;
    if (type === 'function_definition' || type === 'lambda') {
      const name = parent.childForFieldName('name')?.text;
      return name === undefined ? { kind: 'function' } : { kind: 'function', name };
    }
    if (type === 'class_definition') {
      const name = parent.childForFieldName('name')?.text;
      return name === undefined ? { kind: 'class' } : { kind: 'class', name };
    }
  }
  return { kind: 'module' };
}

/** The outermost function definition around `node`, if any (a nested one counts as its owner). */
export function outermostFunction(node: Node): Node | undefined {
  let found: Node | undefined;
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (parent.type === 'function_definition') found = parent;
  }
  return found;
}

/** Exceptions a handler may name that catch a failed import. */
const IMPORT_FAILURES = new Set(['ImportError', 'ModuleNotFoundError', 'Exception', 'BaseException']);

/**
 * Whether `node` is in the body of a `try:` (within its own function) with a handler that catches
 * a failed import: `except ImportError`, `except (ImportError, ValueError) as e`, a bare `except`.
 * Such an import is optional: the code has a way on without it.
 */
export function guardedAgainstImportError(node: Node): boolean {
  for (let child = node, parent = node.parent; parent; child = parent, parent = parent.parent) {
    if (parent.type === 'function_definition' || parent.type === 'class_definition' || parent.type === 'lambda') return false;
    if (parent.type !== 'try_statement') continue;
    const body = parent.childForFieldName('body');
    if (body?.startIndex !== child.startIndex || body.endIndex !== child.endIndex) continue;
    for (const clause of parent.namedChildren) {
      if (clause.type !== 'except_clause') continue;
      const caught = clause.namedChildren.find((part) => part.type !== 'block' && part.type !== 'comment');
      if (caught === undefined) return true;
      const named = caught.type === 'as_pattern' ? caught.namedChild(0) : caught;
      const names = named?.type === 'tuple' ? named.namedChildren : named ? [named] : [];
      if (names.some((name) => IMPORT_FAILURES.has(name.text.replace(/^builtins\./, '')))) return true;
    }
  }
  return false;
}

/** A parameter read from a `parameters` list, with its name node. */
export interface ParamNode {
  name: string;
  kind: 'positional' | 'keyword' | 'varargs' | 'kwargs';
  hasDefault: boolean;
  node: Node;
  nameNode: Node;
}

/** The parameters of a `def`, in order, with the kinds Python gives them. */
export function functionParams(parameters: Node): ParamNode[] {
  const params: ParamNode[] = [];
  let keywordOnly = false;
  for (const child of parameters.namedChildren) {
    const type = child.type;
    if (type === 'keyword_separator') {
      keywordOnly = true;
      continue;
    }
    if (type === 'positional_separator' || type === 'comment') continue;
    const hasDefault = type === 'default_parameter' || type === 'typed_default_parameter';
    let target: Node | null = hasDefault ? child.childForFieldName('name') : child;
    if (type === 'typed_parameter') target = child.namedChildren.find((c) => c.type !== 'type') ?? null;
    if (!target) continue;
    if (target.type === 'list_splat_pattern' || target.type === 'dictionary_splat_pattern') {
      const name = target.namedChildren.find((c) => c.type === 'identifier');
      if (!name) continue;
      const kwargs = target.type === 'dictionary_splat_pattern';
      params.push({ name: name.text, kind: kwargs ? 'kwargs' : 'varargs', hasDefault: false, node: child, nameNode: name });
      if (!kwargs) keywordOnly = true;
      continue;
    }
    if (target.type !== 'identifier') continue;
    params.push({ name: target.text, kind: keywordOnly ? 'keyword' : 'positional', hasDefault, node: child, nameNode: target });
  }
  return params;
}

/** The statements of a block, without comments. */
export function blockStatements(block: Node): Node[] {
  return block.namedChildren.filter((child) => child.type !== 'comment');
}

/** True when `statement` is a bare string expression (a docstring when it comes first). */
export function isDocstring(statement: Node): boolean {
  if (statement.type !== 'expression_statement' || statement.namedChildCount !== 1) return false;
  const type = statement.namedChild(0)?.type;
  return type === 'string' || type === 'concatenated_string';
}

/** A name bound at module scope by something other than an import. */
export interface ModuleName {
  name: string;
  kind: 'global' | 'function' | 'class';
  node: Node;
}

/**
 * An assignment at module scope: `name = value`, `name: T = value`, `name += value`, and the other
 * statements that rebind a name without a value argument resolution can follow (a `for` target,
 * `with … as name`, `def`/`class name`, `del name`): after them the name no longer holds what an
 * earlier `name = f(...)` made.
 */
export interface ModuleAssignment {
  name: string;
  /** The assignment expression. */
  node: Node;
  /** The right-hand side when the name is the whole target (not a tuple element). */
  value?: Node;
  /** The block of the `if`/`else`/loop/`except`/`case` clause it is in, when it runs only in some runs of the module. */
  branch?: Node;
}

/**
 * The names a module-level statement binds (other than by import), and its assignments in
 * document order. Compound statements (`if`, `try`, `with`, `for`…) are module scope too; the
 * bodies of functions and classes are not.
 */
export function moduleBindings(statement: Node): { names: ModuleName[]; assignments: ModuleAssignment[] } {
  const names: ModuleName[] = [];
  const assignments: ModuleAssignment[] = [];
  // The clause block the visit is in, when that block runs only in some runs of the module.
  let branch: Node | undefined;
  const bind = (name: string, node: Node, value?: Node): void => {
    const assignment: ModuleAssignment = { name, node };
    if (value) assignment.value = value;
    if (branch) assignment.branch = branch;
    assignments.push(assignment);
  };
  const bindTarget = (target: Node, assignment: Node | undefined, value: Node | undefined): void => {
    const type = target.type;
    if (type === 'identifier') {
      names.push({ name: target.text, kind: 'global', node: target });
      if (assignment) bind(target.text, assignment, value);
      return;
    }
    if (PATTERN_CONTAINERS.has(type)) {
      for (const child of target.namedChildren) bindTarget(child, assignment, undefined);
    }
  };
  const visitAssignment = (node: Node): void => {
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    if (!left) return;
    // An annotation without a value (`x: int`) declares but does not bind.
    if (!right && node.type === 'assignment') return;
    const value = right && right.type !== 'assignment' ? right : right ? chainedValue(right) : undefined;
    bindTarget(left, node, node.type === 'augmented_assignment' ? undefined : value);
    if (right?.type === 'assignment') visitAssignment(right);
  };
  const visit = (node: Node): void => {
    switch (node.type) {
      case 'expression_statement':
        for (const child of node.namedChildren) {
          if (child.type === 'assignment' || child.type === 'augmented_assignment') visitAssignment(child);
        }
        return;
      case 'decorated_definition': {
        const definition = node.childForFieldName('definition');
        if (definition) visit(definition);
        return;
      }
      case 'function_definition':
      case 'class_definition': {
        const name = node.childForFieldName('name');
        if (name) {
          names.push({ name: name.text, kind: node.type === 'class_definition' ? 'class' : 'function', node: name });
          bind(name.text, name);
        }
        return;
      }
      case 'for_statement': {
        // The target is bound before the body runs: calls in the body read it.
        const left = node.childForFieldName('left');
        if (left) bindTarget(left, left, undefined);
        break;
      }
      case 'as_pattern': {
        const alias = node.childForFieldName('alias');
        if (alias) bindTarget(alias, alias, undefined);
        return;
      }
      case 'delete_statement':
        for (const target of node.namedChildren) {
          for (const name of target.type === 'identifier' ? [target] : target.namedChildren.filter((child) => child.type === 'identifier')) {
            bind(name.text, name);
          }
        }
        return;
      case 'import_statement':
      case 'import_from_statement':
        // Only what rebinds a name for argument resolution (the imports themselves are read elsewhere).
        for (const imported of node.type === 'import_statement' ? node.namedChildren : node.childrenForFieldName('name')) {
          const bound = imported.type === 'aliased_import' ? imported.childForFieldName('alias') : imported.type === 'dotted_name' ? imported.namedChild(0) : null;
          if (bound?.type === 'identifier') bind(bound.text, bound);
        }
        return;
      case 'comment':
        return;
    }
    // `if (rows := load()):` at module scope binds `rows` too.
    if (node.type === 'if_statement' || node.type === 'elif_clause' || node.type === 'while_statement') {
      const condition = node.childForFieldName('condition');
      if (condition) {
        for (const walrus of condition.type === 'named_expression' ? [condition] : condition.descendantsOfType('named_expression')) {
          const name = walrus.childForFieldName('name');
          if (name?.type === 'identifier') bind(name.text, name);
        }
      }
    }
    if (COMPOUND.has(node.type)) {
      for (const child of node.namedChildren) {
        const outer = branch;
        if (child.type === 'block' && CONDITIONAL_CLAUSES.has(node.type)) branch = child;
        visit(child);
        branch = outer;
      }
    }
  };
  visit(statement);
  return { names, assignments };
}

function chainedValue(node: Node): Node | undefined {
  let current: Node | null = node;
  while (current && current.type === 'assignment') current = current.childForFieldName('right');
  return current ?? undefined;
}

const PATTERN_CONTAINERS = new Set([
  'pattern_list',
  'tuple_pattern',
  'list_pattern',
  'tuple',
  'list',
  'parenthesized_expression',
  'list_splat_pattern',
  'list_splat',
  'as_pattern_target',
  'expression_list',
]);

// The statements and clauses whose block may not run, or run several times, in a run of the module.
const CONDITIONAL_CLAUSES = new Set(['if_statement', 'elif_clause', 'else_clause', 'for_statement', 'while_statement', 'except_clause', 'except_group_clause', 'case_clause']);

// Statements whose blocks still run at module scope, and the clauses inside them.
const COMPOUND = new Set([
  'module',
  'ERROR',
  'if_statement',
  'elif_clause',
  'else_clause',
  'try_statement',
  'except_clause',
  'except_group_clause',
  'finally_clause',
  'with_statement',
  'with_clause',
  'with_item',
  'for_statement',
  'while_statement',
  'match_statement',
  'case_clause',
  'block',
]);

/** A use of a name that the function does not bind itself. */
export interface FreeUse {
  name: string;
  span: Span;
}

/** The result of the scope walk of one function. */
export interface FreeNames {
  /** Each use of a name that is free in the function, in document order. */
  uses: FreeUse[];
  /** How many times each name is used (free or not) inside the function. */
  useCounts: Map<string, number>;
}

interface Use {
  name: string;
  node: Node;
  /** Declared `global` in an inner scope: resolves at module scope, skipping enclosing ones. */
  global: boolean;
}

interface Scope {
  kind: 'root' | 'function' | 'class' | 'comprehension';
  bound: Set<string>;
  globals: Set<string>;
  nonlocals: Set<string>;
  uses: Use[];
  parent: Scope | undefined;
}

function newScope(kind: Scope['kind'], parent: Scope | undefined): Scope {
  return { kind, bound: new Set(), globals: new Set(), nonlocals: new Set(), uses: [], parent };
}

/**
 * The names `definition` (a `function_definition`) uses without binding them, following
 * Python's rules: locals are names bound anywhere in the body; comprehensions, lambdas, nested
 * functions and classes are scopes of their own (a class body is not visible from its
 * methods); `global x` sends `x` to module scope; `nonlocal x` to the enclosing function.
 * Annotations are skipped (they are not evaluated remotely) and so are the function's own
 * decorators (they run locally), but parameter defaults are evaluated where the `def` runs, so
 * their names count. The function's own name is bound: the runner defines it. Free uses of
 * names in `ignore` (builtins) are counted but not returned, which keeps the walk cheap.
 */
export function freeNames(definition: Node, ignore: ReadonlySet<string> = new Set()): FreeNames {
  const useCounts = new Map<string, number>();
  const root = newScope('root', undefined);

  const use = (node: Node, scope: Scope): void => {
    const name = node.text;
    useCounts.set(name, (useCounts.get(name) ?? 0) + 1);
    scope.uses.push({ name, node, global: false });
  };

  const bindingScope = (scope: Scope): Scope => {
    // A walrus inside a comprehension binds in the enclosing function.
    let current = scope;
    while (current.kind === 'comprehension' && current.parent) current = current.parent;
    return current;
  };

  const bindTarget = (target: Node, scope: Scope): void => {
    const type = target.type;
    if (type === 'identifier') {
      scope.bound.add(target.text);
      return;
    }
    if (PATTERN_CONTAINERS.has(type)) {
      for (const child of target.namedChildren) bindTarget(child, scope);
      return;
    }
    visit(target, scope);
  };

  const bindPattern = (pattern: Node, scope: Scope): void => {
    switch (pattern.type) {
      case 'identifier':
        scope.bound.add(pattern.text);
        return;
      case 'dotted_name': {
        const parts = pattern.namedChildren;
        const first = parts[0];
        if (!first) return;
        // `case x:` captures; `case Color.RED:` reads a value.
        if (parts.length === 1) scope.bound.add(first.text);
        else use(first, scope);
        return;
      }
      case 'class_pattern': {
        const [cls, ...rest] = pattern.namedChildren;
        if (cls?.type === 'dotted_name') {
          const first = cls.namedChild(0);
          if (first) use(first, scope);
        }
        for (const child of rest) bindPattern(child, scope);
        return;
      }
      case 'keyword_pattern': {
        // The first identifier names an attribute of the matched class.
        for (const child of pattern.namedChildren.slice(1)) bindPattern(child, scope);
        return;
      }
      case 'as_pattern': {
        for (const child of pattern.namedChildren) {
          if (child.type === 'as_pattern_target') bindTarget(child, scope);
          else bindPattern(child, scope);
        }
        return;
      }
      case 'string':
      case 'concatenated_string':
      case 'integer':
      case 'float':
      case 'comment':
        return;
      default:
        for (const child of pattern.namedChildren) bindPattern(child, scope);
    }
  };

  const resolve = (scope: Scope): Use[] => {
    const free: Use[] = [];
    for (const entry of scope.uses) {
      if (entry.global || scope.globals.has(entry.name)) free.push(entry.global ? entry : { ...entry, global: true });
      else if (scope.nonlocals.has(entry.name) || !scope.bound.has(entry.name)) free.push(entry);
    }
    return free;
  };

  // Free uses of an inner scope become uses of the scope that encloses it, except that a class
  // body's names are invisible to scopes nested in it: those pass through to the next scope up.
  const propagate = (free: Use[], scope: Scope): void => {
    let target = scope;
    while (target.kind === 'class' && target.parent) target = target.parent;
    for (const entry of free) target.uses.push(entry);
  };

  const visitParameters = (parameters: Node | null, outer: Scope, inner: Scope): void => {
    if (!parameters) return;
    for (const child of parameters.namedChildren) {
      const type = child.type;
      if (type === 'identifier') inner.bound.add(child.text);
      else if (type === 'default_parameter' || type === 'typed_default_parameter') {
        const name = child.childForFieldName('name');
        if (name) bindTarget(name, inner);
        const value = child.childForFieldName('value');
        if (value) visit(value, outer);
      } else if (type === 'typed_parameter' || type === 'list_splat_pattern' || type === 'dictionary_splat_pattern') {
        for (const part of child.namedChildren) {
          if (part.type === 'identifier') inner.bound.add(part.text);
          else if (part.type === 'list_splat_pattern' || part.type === 'dictionary_splat_pattern') {
            for (const name of part.namedChildren) if (name.type === 'identifier') inner.bound.add(name.text);
          }
        }
      } else if (type === 'tuple_pattern') bindTarget(child, inner);
    }
  };

  const visitFunction = (node: Node, scope: Scope, bindsName: boolean): void => {
    const name = node.childForFieldName('name');
    const inner = newScope('function', scope);
    if (name) (bindsName ? scope : inner).bound.add(name.text);
    visitParameters(node.childForFieldName('parameters'), scope, inner);
    const body = node.childForFieldName('body');
    if (body) visit(body, inner);
    propagate(resolve(inner), scope);
  };

  const visitComprehension = (node: Node, scope: Scope): void => {
    const inner = newScope('comprehension', scope);
    let first = true;
    const deferred: Node[] = [];
    for (const child of node.namedChildren) {
      if (child.type === 'for_in_clause') {
        const left = child.childForFieldName('left');
        if (left) bindTarget(left, inner);
        // Only the first iterable is evaluated in the enclosing scope.
        for (const right of child.childrenForFieldName('right')) visit(right, first ? scope : inner);
        first = false;
      } else deferred.push(child);
    }
    for (const child of deferred) visit(child, inner);
    propagate(resolve(inner), scope);
  };

  const visit = (node: Node, scope: Scope): void => {
    switch (node.type) {
      case 'identifier':
        use(node, scope);
        return;
      case 'comment':
      case 'type':
      case 'type_parameter':
      case 'type_alias_statement':
      case 'future_import_statement':
        return;
      case 'attribute': {
        const object = node.childForFieldName('object');
        if (object) visit(object, scope);
        return;
      }
      case 'keyword_argument': {
        const value = node.childForFieldName('value');
        if (value) visit(value, scope);
        return;
      }
      case 'dotted_name': {
        const first = node.namedChild(0);
        if (first) visit(first, scope);
        return;
      }
      case 'decorated_definition': {
        for (const child of node.namedChildren) {
          if (child.type === 'decorator') visit(child, scope);
        }
        const definition = node.childForFieldName('definition');
        if (definition) visit(definition, scope);
        return;
      }
      case 'function_definition':
        visitFunction(node, scope, true);
        return;
      case 'lambda': {
        const inner = newScope('function', scope);
        visitParameters(node.childForFieldName('parameters'), scope, inner);
        const body = node.childForFieldName('body');
        if (body) visit(body, inner);
        propagate(resolve(inner), scope);
        return;
      }
      case 'class_definition': {
        const name = node.childForFieldName('name');
        if (name) scope.bound.add(name.text);
        const superclasses = node.childForFieldName('superclasses');
        if (superclasses) visit(superclasses, scope);
        const inner = newScope('class', scope);
        const body = node.childForFieldName('body');
        if (body) visit(body, inner);
        const free = resolve(inner);
        for (const entry of free) scope.uses.push(entry);
        return;
      }
      case 'list_comprehension':
      case 'set_comprehension':
      case 'dictionary_comprehension':
      case 'generator_expression':
        visitComprehension(node, scope);
        return;
      case 'assignment': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left) bindTarget(left, scope);
        if (right) visit(right, scope);
        return;
      }
      case 'augmented_assignment': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left) bindTarget(left, scope);
        if (right) visit(right, scope);
        return;
      }
      case 'named_expression': {
        const name = node.childForFieldName('name');
        if (name) bindingScope(scope).bound.add(name.text);
        const value = node.childForFieldName('value');
        if (value) visit(value, scope);
        return;
      }
      case 'for_statement': {
        const left = node.childForFieldName('left');
        if (left) bindTarget(left, scope);
        for (const field of ['right', 'body', 'alternative']) {
          const child = node.childForFieldName(field);
          if (child) visit(child, scope);
        }
        return;
      }
      case 'as_pattern': {
        for (const child of node.namedChildren) {
          if (child.type === 'as_pattern_target') bindTarget(child, scope);
          else visit(child, scope);
        }
        return;
      }
      case 'import_statement':
      case 'import_from_statement': {
        for (const clause of node.childrenForFieldName('name')) {
          if (clause.type === 'aliased_import') {
            const alias = clause.childForFieldName('alias');
            if (alias) scope.bound.add(alias.text);
          } else if (clause.type === 'dotted_name') {
            const first = clause.namedChild(0);
            if (first) scope.bound.add(first.text);
          }
        }
        return;
      }
      case 'global_statement':
        for (const child of node.namedChildren) if (child.type === 'identifier') scope.globals.add(child.text);
        return;
      case 'nonlocal_statement':
        for (const child of node.namedChildren) if (child.type === 'identifier') scope.nonlocals.add(child.text);
        return;
      case 'delete_statement':
        for (const child of node.namedChildren) bindTarget(child, scope);
        return;
      case 'case_clause': {
        for (const child of node.namedChildren) {
          if (child.type === 'case_pattern') bindPattern(child, scope);
          else visit(child, scope);
        }
        return;
      }
    }
    for (const child of node.namedChildren) visit(child, scope);
  };

  // The top function: its name is bound inside (the runner defines it), its defaults are
  // evaluated where the `def` runs (the fresh namespace on the cluster, modelled by `root`), and
  // its decorators are not visited at all.
  const inner = newScope('function', root);
  const name = definition.childForFieldName('name');
  if (name) inner.bound.add(name.text);
  visitParameters(definition.childForFieldName('parameters'), root, inner);
  const body = definition.childForFieldName('body');
  if (body) visit(body, inner);
  for (const entry of resolve(inner)) root.uses.push(entry);
  const uses: FreeUse[] = [];
  for (const entry of root.uses) if (!ignore.has(entry.name)) uses.push({ name: entry.name, span: spanOf(entry.node) });
  uses.sort((a, b) => a.span.start.line - b.span.start.line || a.span.start.character - b.span.start.character);
  return { uses, useCounts };
}
