// The slice of choppa-lsp's custom protocol (ARCHITECTURE.md, "Custom protocol") the extension
// reads: command names and the JSON their results carry. The server owns the protocol; this
// file only mirrors what the client looks at.

export const SERVER_COMMANDS = {
  run: 'choppa.run',
  runArtifact: 'choppa.runArtifact',
  dereference: 'choppa.dereference',
  submit: 'choppa.submit',
  moreActions: 'choppa.moreActions',
} as const;

/** A command as the server hands it out (a lens's or an action's). */
export interface ServerCommand {
  title: string;
  command: string;
  arguments?: unknown[];
}

/** The result of `choppa.moreActions`. */
export function moreActionsOf(value: unknown): ServerCommand[] {
  if (value === null || typeof value !== 'object') return [];
  const actions = (value as { actions?: unknown }).actions;
  return Array.isArray(actions) ? actions.filter((action): action is ServerCommand => typeof action?.title === 'string' && typeof action?.command === 'string') : [];
}

/** The argument of `choppa.run` / `choppa.runArtifact`. */
export interface RunArguments {
  uri: string;
  function: string;
  args?: string;
  position?: { line: number; character: number };
}

/** The result of `choppa.run` / `choppa.runArtifact`. */
export interface RunResult {
  status: 'ok' | 'error' | 'cancelled';
  runId?: string;
  function: string;
  args?: string;
  value?: { repr: string; type: string; size?: number };
  ref?: { path: string; size: number; sha256: string; type?: string };
  error?: { type: string; message: string; line?: number; missing?: string[] };
  stdout?: string;
  stderr?: string;
  durationMs: number;
  backend?: string;
}

/** The result of `choppa.dereference`. */
export interface DereferenceResult {
  localPath: string;
  previewPath: string;
  size: number;
  sha256: string;
}

export function isRunArguments(value: unknown): value is RunArguments {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return typeof record.uri === 'string' && typeof record.function === 'string';
}

export function isRunResult(value: unknown): value is RunResult {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return typeof record.status === 'string' && typeof record.function === 'string';
}

export function isDereferenceResult(value: unknown): value is DereferenceResult {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return typeof record.localPath === 'string' && typeof record.previewPath === 'string';
}

/**
 * True when the server refused a run only because nobody supplied arguments (DESIGN §8: the
 * call site's, else the client's), or because the arguments supplied did not parse.
 */
export function wantsArguments(result: RunResult): boolean {
  if (result.status !== 'error' || result.error?.type !== 'ArgumentError') return false;
  return /needs arguments|not a valid Python argument list/.test(result.error.message);
}

/** One cluster of `choppa.clusters` (the server lists them running first). */
export interface ClusterEntry {
  clusterId: string;
  name: string;
  state: string;
  stateMessage: string;
  sparkVersion: string | null;
  python: string | null;
  attachable: boolean | null;
  url: string;
}

/** One submitted run of `choppa.jobRuns`. */
export interface JobRunEntry {
  runId: number;
  function: string;
  state: string;
  result?: string;
  durationMs?: number;
  runPageUrl?: string;
}
