// Which warm execution context a state folder's processes hold on each cluster, in
// `.choppa/contexts.json`, so another process (`choppa-lsp context restart`) can destroy it: the
// server's next run on it then finds it gone and creates a fresh interpreter.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDir, writeAtomic } from '../engine/state-dir.js';

/** Contexts remembered at most (one per cluster and workspace; the oldest go first). */
const MAX_ENTRIES = 64;

type Registry = Record<string, { contextId: string; at: string }>;

function registryPath(stateDir: string): string {
  return join(stateDir, 'contexts.json');
}

function read(stateDir: string): Registry {
  try {
    const path = registryPath(stateDir);
    if (!existsSync(path)) return {};
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Registry) : {};
  } catch {
    return {};
  }
}

const keyOf = (host: string, clusterId: string): string => `${host}|${clusterId}`;

/**
 * Records a context a process of this state folder created, or forgets one it dropped (only
 * when it is still the recorded one: another process may have recorded a newer one since).
 */
export function recordContext(stateDir: string, host: string, clusterId: string, change: { created: string } | { dropped: string }): void {
  try {
    const registry = read(stateDir);
    const key = keyOf(host, clusterId);
    if ('dropped' in change) {
      if (registry[key]?.contextId !== change.dropped) return;
      delete registry[key];
    } else {
      registry[key] = { contextId: change.created, at: new Date().toISOString() };
    }
    const kept = Object.entries(registry).sort((a, b) => b[1].at.localeCompare(a[1].at)).slice(0, MAX_ENTRIES);
    ensureStateDir(stateDir);
    writeAtomic(registryPath(stateDir), `${JSON.stringify(Object.fromEntries(kept), null, 2)}\n`);
  } catch {
    // Best effort: without the record only `choppa-lsp context restart` cannot find the context.
  }
}

export function recordedContext(stateDir: string, host: string, clusterId: string): string | undefined {
  const entry = read(stateDir)[keyOf(host, clusterId)];
  return typeof entry?.contextId === 'string' ? entry.contextId : undefined;
}
