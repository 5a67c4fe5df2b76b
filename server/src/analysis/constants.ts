// Constant folding of Python literals, so `Choppa(result_size_max=10 * 1024 * 1024)` is read as
// a number. Anything that would need the program to run (names, calls, f-string substitutions)
// is not a constant, and the caller reports it as dynamic.

import type * as Parser from '../syntax/tree.js';

type Node = Parser.SyntaxNode;

/** A value the analysis could evaluate. */
export type Constant = string | number | boolean | null;

/** The value of a literal expression, or `undefined` when it is not a constant. */
export function foldConstant(node: Node): Constant | undefined {
  try {
    return fold(node);
  } catch {
    return undefined;
  }
}

function fold(node: Node): Constant | undefined {
  switch (node.type) {
    case 'none':
      return null;
    case 'true':
      return true;
    case 'false':
      return false;
    case 'integer':
      return parseInteger(node.text);
    case 'float': {
      const text = node.text.replace(/_/g, '');
      if (/[jJ]$/.test(text)) return undefined;
      const value = Number(text);
      return Number.isFinite(value) ? value : undefined;
    }
    case 'string':
      return stringValue(node);
    case 'concatenated_string': {
      let result = '';
      for (const part of node.namedChildren) {
        if (part.type === 'comment') continue;
        const value = part.type === 'string' ? stringValue(part) : undefined;
        if (typeof value !== 'string') return undefined;
        result += value;
      }
      return result;
    }
    case 'parenthesized_expression': {
      const inner = node.namedChildren.filter((child) => child.type !== 'comment');
      return inner.length === 1 && inner[0] ? fold(inner[0]) : undefined;
    }
    case 'unary_operator': {
      const operand = node.childForFieldName('argument');
      const operator = node.childForFieldName('operator')?.type;
      const value = operand ? fold(operand) : undefined;
      if (typeof value !== 'number') return undefined;
      if (operator === '-') return -value;
      if (operator === '+') return value;
      if (operator === '~' && Number.isInteger(value)) return ~value;
      return undefined;
    }
    case 'binary_operator': {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      const operator = node.childForFieldName('operator')?.type;
      if (!left || !right || !operator) return undefined;
      return binary(operator, fold(left), fold(right));
    }
    default:
      return undefined;
  }
}

function binary(operator: string, a: Constant | undefined, b: Constant | undefined): Constant | undefined {
  if (typeof a === 'string' && typeof b === 'string') return operator === '+' ? a + b : undefined;
  if (typeof a !== 'number' || typeof b !== 'number') return undefined;
  let value: number;
  switch (operator) {
    case '+':
      value = a + b;
      break;
    case '-':
      value = a - b;
      break;
    case '*':
      value = a * b;
      break;
    case '/':
      if (b === 0) return undefined;
      value = a / b;
      break;
    case '//':
      if (b === 0) return undefined;
      value = Math.floor(a / b);
      break;
    case '%':
      if (b === 0) return undefined;
      value = a - b * Math.floor(a / b);
      break;
    case '**':
      value = a ** b;
      break;
    case '<<':
      value = a * 2 ** b;
      break;
    case '>>':
      value = Math.floor(a / 2 ** b);
      break;
    default:
      return undefined;
  }
  return Number.isFinite(value) ? value : undefined;
}

function parseInteger(raw: string): number | undefined {
  const text = raw.replace(/_/g, '').toLowerCase();
  if (text.endsWith('j')) return undefined;
  const digits = text.endsWith('l') ? text.slice(0, -1) : text;
  let value: number;
  if (digits.startsWith('0x')) value = parseInt(digits.slice(2), 16);
  else if (digits.startsWith('0o')) value = parseInt(digits.slice(2), 8);
  else if (digits.startsWith('0b')) value = parseInt(digits.slice(2), 2);
  else if (/^\d+$/.test(digits)) value = Number(digits);
  else return undefined;
  return Number.isFinite(value) ? value : undefined;
}

const STRING_START = /^([a-zA-Z]*)('''|"""|'|")/;

function stringValue(node: Node): string | undefined {
  if (node.namedChildren.some((child) => child.type === 'interpolation')) return undefined;
  const text = node.text;
  const match = STRING_START.exec(text);
  if (!match) return undefined;
  const prefix = (match[1] ?? '').toLowerCase();
  const quote = match[2] ?? '"';
  // Bytes are not the text a cluster id or a path is.
  if (prefix.includes('b')) return undefined;
  if (text.length < match[0].length + quote.length || !text.endsWith(quote)) return undefined;
  let body = text.slice(match[0].length, text.length - quote.length);
  if (prefix.includes('f')) body = body.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
  return prefix.includes('r') ? body : unescape(body);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function unescape(body: string): string {
  return body.replace(/\\(\r?\n|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)/g, (whole, escape: string) => {
    if (escape.startsWith('\n') || escape.startsWith('\r')) return '';
    const simple = SIMPLE_ESCAPES[escape];
    if (simple !== undefined) return simple;
    const first = escape[0];
    if ((first === 'x' || first === 'u' || first === 'U') && escape.length > 1) {
      return String.fromCodePoint(parseInt(escape.slice(1), 16));
    }
    if (/^[0-7]+$/.test(escape)) return String.fromCodePoint(parseInt(escape, 8));
    // Python keeps unknown escapes as written.
    return whole;
  });
}

const LITERAL_CONTAINERS = new Set(['list', 'tuple', 'set', 'dictionary', 'parenthesized_expression', 'pair']);
const LITERAL_LEAVES = new Set(['integer', 'float', 'true', 'false', 'none']);
/** A module constant larger than this is not passed by value: it is data, not a setting. */
const LITERAL_MAX = 64 * 1024;

/**
 * The Python source of a value the runner can rebuild: literals, containers of literals and
 * arithmetic on them (`10 * 1024`, `1 / 5`), as written, for the runner computes them in Python
 * (folding them here would turn `10 / 5` into the int 2). `undefined` for anything that needs the
 * program to run.
 */
export function literalSource(node: Node): string | undefined {
  try {
    if (node.text.length > LITERAL_MAX) return undefined;
    if (isConstantExpression(node)) return node.text;
    // An f-string without substitutions is a plain string the runner cannot parse as a literal.
    const value = fold(node);
    return typeof value === 'string' ? JSON.stringify(value) : undefined;
  } catch {
    return undefined;
  }
}

/** The operators the runner computes on literals (not `@`, comparisons or boolean operators). */
const CONSTANT_OPERATORS = new Set(['+', '-', '*', '/', '//', '%', '**', '<<', '>>', '|', '&', '^']);

/** A literal, a container of constant expressions, or arithmetic on them. */
function isConstantExpression(node: Node): boolean {
  if (isLiteral(node)) return true;
  switch (node.type) {
    case 'binary_operator': {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      const operator = node.childForFieldName('operator')?.type;
      return left !== null && right !== null && operator !== undefined && CONSTANT_OPERATORS.has(operator) && isConstantExpression(left) && isConstantExpression(right);
    }
    case 'unary_operator': {
      const operand = node.childForFieldName('argument');
      const operator = node.childForFieldName('operator')?.type;
      return (operator === '-' || operator === '+' || operator === '~') && operand !== null && isConstantExpression(operand);
    }
    case 'pair': {
      const key = node.childForFieldName('key');
      const value = node.childForFieldName('value');
      return key !== null && value !== null && isConstantExpression(key) && isConstantExpression(value);
    }
    default:
      return LITERAL_CONTAINERS.has(node.type) && node.namedChildren.every((child) => child.type === 'comment' || isConstantExpression(child));
  }
}

function isLiteral(node: Node): boolean {
  const type = node.type;
  if (LITERAL_LEAVES.has(type)) return true;
  if (type === 'string') return !node.namedChildren.some((child) => child.type === 'interpolation') && !/^[a-zA-Z]*[fF]/.test(node.text);
  if (type === 'concatenated_string') return node.namedChildren.every((child) => child.type === 'comment' || isLiteral(child));
  if (type === 'unary_operator') {
    const operand = node.childForFieldName('argument');
    const operator = node.childForFieldName('operator')?.type;
    return (operator === '-' || operator === '+') && operand !== null && (operand.type === 'integer' || operand.type === 'float');
  }
  if (LITERAL_CONTAINERS.has(type)) return node.namedChildren.every((child) => child.type === 'comment' || isLiteral(child));
  return false;
}
