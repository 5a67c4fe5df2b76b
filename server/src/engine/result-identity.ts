// Result identity: a result belongs to one function, one call (its arguments) and one version of
// the code (the function's source, the project code shipped with it, and what its named arguments
// meant: the upstream results by their own run ids, module constants by their text). A stored
// result whose version no longer matches the code is stale, and this file says why.
import { createHash } from 'node:crypto';
import type { Binding, DecoratedFunction } from '../analysis/model.js';
import type { RunMode } from './run-record.js';

/** What one named argument meant when the run was planned. */
export type InputStamp =
  /**
   * The result of another call: `big` bound to `load(1000)`, passed as that run's result
   * (`call` is that call's identity, `call-identity.ts`).
   */
  | { kind: 'result'; function: string; call: string; runId: string; label: string; binding?: number }
  /** A module constant passed by value (`REGIONS = ["emea", "amer"]`). */
  | { kind: 'literal'; text: string; binding?: number };
// `binding`: which assignment of the name the call read (from 1, as `nthBinding` counts); absent
// in records stored before it was kept, whose names are then read at the file's end.

/** The code version of a run, kept with its record. */
export interface CodeVersion {
  /** A hash over everything below: equal hashes mean the same run would happen again. */
  hash: string;
  /** Hash of the shipped function source. */
  source: string;
  /** Hash of the project code shipped with it (the bundle), when any ships. */
  bundle?: string;
  mode: RunMode;
  inputs: Record<string, InputStamp>;
  /** The file (as the store names files) whose assignments `inputs` were read from. */
  caller?: string;
}

const sourceHashes = new Map<string, string>();
const versionHashes = new Map<string, string>();
const SOURCE_HASHES_KEPT = 4096;

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/** The hash of a function's shipped source (memoized: hover and diagnostics ask on every publish). */
export function sourceHash(source: string): string {
  let hash = sourceHashes.get(source);
  if (hash === undefined) {
    hash = sha(source);
    if (sourceHashes.size >= SOURCE_HASHES_KEPT) sourceHashes.clear();
    sourceHashes.set(source, hash);
  }
  return hash;
}

/** The version of a run from its parts; which assignment each input was read from is not hashed (the call's identity has it). */
export function codeVersion(parts: Omit<CodeVersion, 'hash'>): CodeVersion {
  const inputs = Object.keys(parts.inputs)
    .sort()
    .map((name) => {
      const input = parts.inputs[name] as InputStamp;
      return input.kind === 'result' ? [name, 'result', input.function, input.call, input.runId] : [name, 'literal', input.text];
    });
  const key = JSON.stringify([parts.source, parts.bundle ?? '', parts.mode, inputs]);
  // Memoized like `sourceHash`: a warm run again hashed the same text before its first request.
  let hash = versionHashes.get(key);
  if (hash === undefined) {
    hash = sha(key);
    if (versionHashes.size >= SOURCE_HASHES_KEPT) versionHashes.clear();
    versionHashes.set(key, hash);
  }
  return { hash, ...parts };
}

/** What staleness needs to know about the code as it is now. */
export interface CurrentCode {
  fn: DecoratedFunction;
  /** The bundle hash the function would ship with now (undefined: no project code ships). */
  bundle: string | undefined;
  /**
   * The `ordinal`-th assignment of a module name in the calling file (its last when no ordinal);
   * absent when that file cannot be read here, and then what its names meant is not checked.
   */
  binding?: (name: string, ordinal: number | undefined) => Binding | undefined;
  /** The call an assignment binds now, as a `result` input names it (function key, call identity). */
  boundCall: (binding: Binding) => { function: string; call: string; label: string } | undefined;
  /** The result a `result` input would resolve to now (its run id), or why it has none. */
  upstream: (input: Extract<InputStamp, { kind: 'result' }>) => { runId: string; stale?: string } | undefined;
}

/**
 * Why a stored result no longer matches the code (`the code of double changed`), or undefined
 * when it still does. Records from before code versions were kept are stale: nothing says what
 * produced them.
 */
export function staleness(version: CodeVersion | undefined, current: CurrentCode): string | undefined {
  if (version === undefined) return 'it was stored before choppa-lsp kept code versions';
  const reasons: string[] = [];
  if (version.source !== sourceHash(current.fn.source)) reasons.push(`the code of ${current.fn.name} changed`);
  if ((version.bundle ?? '') !== (current.bundle ?? '')) reasons.push('a shipped module changed');
  for (const [name, input] of Object.entries(version.inputs)) {
    if (current.binding) {
      const binding = current.binding(name, input.binding);
      if (input.kind === 'literal') {
        if (binding?.literal !== input.text) reasons.push(`\`${name}\` changed`);
        continue;
      }
      // The assignment the call read may now bind another call (`data = load(3)` edited to `load(7)`).
      const bound = binding ? current.boundCall(binding) : undefined;
      if (!bound || bound.function !== input.function || bound.call !== input.call) {
        reasons.push(bound ? `\`${name}\` is now \`${bound.label}\`` : `\`${name}\` is no longer ${input.label}`);
        continue;
      }
    }
    if (input.kind === 'literal') continue;
    const now = current.upstream(input);
    if (now === undefined) reasons.push(`\`${name}\` (${input.label}) has no result now`);
    else if (now.runId !== input.runId) reasons.push(`\`${name}\` (${input.label}) has a newer result`);
    else if (now.stale !== undefined) reasons.push(`\`${name}\` (${input.label}) is stale`);
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

/**
 * Whether two backend labels name the same place to run: one cluster (`cluster 0123-…`), one Dask
 * scheduler, or the local Python whatever version it reported. A cached result is served only
 * where it was made: a laptop's result is not what the cluster would compute.
 */
export function samePlace(label: string, other: string): boolean {
  const place = (text: string): string => (text.startsWith('local ') ? 'local' : text);
  return place(label) === place(other);
}
