// Human-readable renderings of run results, shared by diagnostics, hover, inlay hints and the
// CLI so that every surface says the same thing the same way.
import type { ArtifactRef, ValueInfo } from '../backends/backend.js';
import type { RunMode } from './run-record.js';

/** What a short outcome needs: a stored record and a command result both fit. */
export interface OutcomeLike {
  status: 'ok' | 'error' | 'cancelled';
  value?: ValueInfo;
  ref?: ArtifactRef;
  error?: { type: string; message: string };
}

/** What a summary line needs. */
export interface SummaryLike extends OutcomeLike {
  function: string;
  args?: string;
  mode?: RunMode;
  durationMs: number;
  backend?: string;
  /** Served from the cache (a stored record says when the computing run finished; a command result says it in `computedAt`). */
  cached?: boolean | { computedAt: string };
  computedAt?: string;
}

/**
 * `512 B`, `17.6 KB`, `176 KB`, `1.2 GB` (powers of 1024, as a data scientist reads them; one
 * decimal below 100). The VS Code client's `formatBytes` follows the same rule.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `12 ms`, `0.8 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 100) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `KeyError: 'x'`, or the type alone when the exception says nothing (`MemoryError`). */
export function errorText(error: { type: string; message: string }): string {
  return error.message.trim() === '' ? error.type : `${error.type}: ${error.message}`;
}

/** Shortens a string to one line of at most `max` characters. */
export function oneLine(text: string, max = 80): string {
  return clip(text.replace(/\s+/g, ' ').trim(), max);
}

/**
 * `text` cut to at most `max` UTF-16 units, ending in `…`, never between the two halves of an
 * emoji: a lone half goes out as U+FFFD, and the editor shows `�…`.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** `ArtifactRef 1.2 MB (list)`. */
export function describeRef(ref: ArtifactRef): string {
  return `ArtifactRef ${formatBytes(ref.size)} (${ref.type})`;
}

/** The short outcome shown after `⇒` and `→`: a value preview, a ref, or the error type. */
export function shortOutcome(record: OutcomeLike, max = 60): string {
  if (record.status === 'cancelled') return 'cancelled';
  if (record.error) return errorText({ type: record.error.type, message: oneLine(record.error.message, max) });
  if (record.ref) return describeRef(record.ref);
  if (record.value) return oneLine(record.value.repr, max);
  return '?';
}

/**
 * The one-line summary of a run: `add(1, 2) → 3 · 0.8 s · local python3.11`; a cached one says
 * `cached 3 min ago` instead of its duration.
 */
export function summaryLine(record: SummaryLike, now = Date.now()): string {
  const call = `${record.function}(${oneLine(record.args ?? '', 40)})`;
  const mode = record.mode === 'artifact' ? ' [artifact]' : '';
  const backend = record.backend ? ` · ${record.backend}` : '';
  const computedAt = typeof record.cached === 'object' ? record.cached.computedAt : record.cached ? record.computedAt : undefined;
  const took = computedAt !== undefined ? `cached ${formatRelativeTime(computedAt, now)}` : formatDuration(record.durationMs);
  return `${call}${mode} → ${shortOutcome(record)} · ${took}${backend}`;
}

/** A value's type and size, as hover shows it: `int · 5 B pickled`. */
export function describeValue(value: ValueInfo): string {
  return value.size === null ? `${value.type} · not picklable` : `${value.type} · ${formatBytes(value.size)} pickled`;
}

/** `just now`, `2 min ago`, `3 h ago`, `yesterday`, `5 days ago`, else the date: when something happened. */
export function formatRelativeTime(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 0) return iso.slice(0, 16).replace('T', ' ');
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 14) return `${days} days ago`;
  return iso.slice(0, 10);
}
