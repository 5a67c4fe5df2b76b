// The LSP lifecycle and parameter shapes, enforced once for every handler: requests before
// `initialize` get ServerNotInitialized (-32002) and are not served (a `choppa.run` would execute
// user code), requests after `shutdown` get InvalidRequest, and parameters of the wrong shape get
// InvalidParams (-32602) saying which field is wrong, instead of a JavaScript TypeError.
import { ErrorCodes, ResponseError } from './lsp-runtime.js';

type Check = (params: unknown) => string | undefined;

function field(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const isPosition = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && Number.isInteger((value as { line?: unknown }).line) && Number.isInteger((value as { character?: unknown }).character);

const string = (path: string): Check => (params) => (typeof field(params, path) === 'string' ? undefined : `\`${path}\` must be a string`);
const position = (path: string): Check => (params) => (isPosition(field(params, path)) ? undefined : `\`${path}\` must be a position {line, character} of integers`);
const range = (path: string): Check => (params) =>
  isPosition(field(params, `${path}.start`)) && isPosition(field(params, `${path}.end`)) ? undefined : `\`${path}\` must be a range {start, end} of positions`;
const object = (path: string): Check => (params) => {
  const value = field(params, path);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? undefined : `\`${path}\` must be an object`;
};

/** What each method's parameters must look like (only what the handlers read). */
export const PARAMETER_SHAPES: Record<string, Check[]> = {
  'textDocument/hover': [string('textDocument.uri'), position('position')],
  'textDocument/completion': [string('textDocument.uri'), position('position')],
  'textDocument/codeAction': [string('textDocument.uri'), range('range'), object('context')],
  'textDocument/codeLens': [string('textDocument.uri')],
  'textDocument/inlayHint': [string('textDocument.uri'), range('range')],
  'workspace/executeCommand': [string('command')],
  'textDocument/didOpen': [string('textDocument.uri'), string('textDocument.text')],
  'textDocument/didChange': [string('textDocument.uri'), (params) => (Array.isArray(field(params, 'contentChanges')) ? undefined : '`contentChanges` must be an array')],
  'textDocument/didClose': [string('textDocument.uri')],
};

/** Why `params` does not fit `method`, or undefined. */
export function parameterProblem(method: string, params: unknown): string | undefined {
  for (const check of PARAMETER_SHAPES[method] ?? []) {
    const problem = check(params);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** The lifecycle state of one connection, and wrappers that enforce it. */
export class Lifecycle {
  private state: 'starting' | 'running' | 'shut down' = 'starting';

  constructor(private readonly log: (message: string) => void) {}

  initialized(): void {
    if (this.state === 'starting') this.state = 'running';
  }

  shutDown(): void {
    this.state = 'shut down';
  }

  get isShutDown(): boolean {
    return this.state === 'shut down';
  }

  /** Wraps a request handler: refused outside the running state or with ill-shaped params. */
  request<P, R, A extends unknown[]>(method: string, handler: (params: P, ...rest: A) => R): (params: P, ...rest: A) => R {
    return (params: P, ...rest: A): R => {
      if (this.state === 'starting') throw new ResponseError(ErrorCodes.ServerNotInitialized, `${method} before initialize: the server is not initialized yet`);
      if (this.state === 'shut down') throw new ResponseError(ErrorCodes.InvalidRequest, `${method} after shutdown: the server only accepts exit now`);
      const problem = parameterProblem(method, params);
      if (problem !== undefined) throw new ResponseError(ErrorCodes.InvalidParams, `${method}: ${problem}`);
      return handler(params, ...rest);
    };
  }

  /** Wraps a notification handler: dropped (and logged) outside the running state or when ill-shaped. */
  notification<P>(method: string, handler: (params: P) => void): (params: P) => void {
    return (params: P): void => {
      if (this.state !== 'running') {
        this.log(`choppa-lsp: ignored ${method} ${this.state === 'starting' ? 'before initialize' : 'after shutdown'}`);
        return;
      }
      const problem = parameterProblem(method, params);
      if (problem !== undefined) {
        this.log(`choppa-lsp: ignored ${method}: ${problem}`);
        return;
      }
      handler(params);
    };
  }
}
