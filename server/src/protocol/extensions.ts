// choppa-lsp's custom protocol, declared once: the workspace commands, their JSON arguments and
// the parsing of those arguments. ARCHITECTURE.md describes the same list for client authors.
import type { ArtifactRef } from '../backends/backend.js';

/** Every command the server executes; all are listed in `executeCommandProvider.commands`. */
export const COMMANDS = {
  run: 'choppa.run',
  runArtifact: 'choppa.runArtifact',
  submit: 'choppa.submit',
  cancel: 'choppa.cancel',
  dereference: 'choppa.dereference',
  showLog: 'choppa.showLog',
  listRuns: 'choppa.listRuns',
  moreActions: 'choppa.moreActions',
  clusters: 'choppa.clusters',
  startCluster: 'choppa.startCluster',
  restartContext: 'choppa.restartContext',
  openClusterPage: 'choppa.openClusterPage',
  jobRuns: 'choppa.jobRuns',
} as const;

export type CommandName = (typeof COMMANDS)[keyof typeof COMMANDS];

/** `choppa.run` / `choppa.runArtifact`: `{uri, function, args?, position?}`. */
export interface RunArguments {
  uri: string;
  function: string;
  /** Python argument source, as typed (`"1, b=2"`). */
  args?: string;
  /** The call site the action was invoked on, so names resolve to bindings before it. */
  position?: { line: number; character: number };
  /** Run even when the cache (setting `choppa.cache`, `# choppa: cache`) holds a current result. */
  fresh?: boolean;
}

/**
 * `choppa.dereference`: `{uri, function, call?}` (the last artifact of the function, or of that
 * call: its normalised arguments) or `{ref}` (a path or a ref).
 */
export type DereferenceArguments = { uri: string; function: string; call?: string } | { ref: string | ArtifactRef };

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function object(raw: unknown): Record<string, unknown> | undefined {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
}

function isPosition(raw: unknown): raw is { line: number; character: number } {
  const value = object(raw);
  return value !== undefined && Number.isInteger(value.line) && Number.isInteger(value.character);
}

export function parseRunArguments(raw: unknown): Parsed<RunArguments> {
  const value = object(raw);
  if (!value || typeof value.uri !== 'string' || typeof value.function !== 'string') {
    return { ok: false, message: 'expects one argument {uri, function, args?}' };
  }
  if (value.args !== undefined && typeof value.args !== 'string') {
    return { ok: false, message: '`args` must be Python argument source as a string, e.g. "1, b=2"' };
  }
  const parsed: RunArguments = { uri: value.uri, function: value.function };
  if (typeof value.args === 'string') parsed.args = value.args;
  if (isPosition(value.position)) parsed.position = { line: value.position.line, character: value.position.character };
  if (value.fresh !== undefined && typeof value.fresh !== 'boolean') return { ok: false, message: '`fresh` must be true or false' };
  if (value.fresh === true) parsed.fresh = true;
  return { ok: true, value: parsed };
}

export function parseDereferenceArguments(raw: unknown): Parsed<DereferenceArguments> {
  const value = object(raw);
  if (value && typeof value.uri === 'string' && typeof value.function === 'string') {
    return { ok: true, value: { uri: value.uri, function: value.function, ...(typeof value.call === 'string' ? { call: value.call } : {}) } };
  }
  if (value && typeof value.ref === 'string') return { ok: true, value: { ref: value.ref } };
  const ref = object(value?.ref);
  if (ref && typeof ref.path === 'string' && typeof ref.sha256 === 'string' && typeof ref.size === 'number') {
    return { ok: true, value: { ref: ref as unknown as ArtifactRef } };
  }
  return { ok: false, message: 'expects one argument {uri, function} or {ref}' };
}

/** `choppa.cancel` and `choppa.showLog`: `{uri, function}` (its latest run) or `{id}` (a run id). */
export type RunTargetArguments = { uri: string; function: string } | { id: string };

export function parseRunTargetArguments(raw: unknown): Parsed<RunTargetArguments> {
  const value = object(raw);
  if (value && typeof value.uri === 'string' && typeof value.function === 'string') {
    return { ok: true, value: { uri: value.uri, function: value.function } };
  }
  if (value && typeof value.id === 'string') return { ok: true, value: { id: value.id } };
  return { ok: false, message: 'expects one argument {uri, function} or {id}' };
}
