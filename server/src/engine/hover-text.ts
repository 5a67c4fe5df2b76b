// The Markdown a hover shows for a decorated function or a call of one: the last result with
// its size, type, duration and backend, and what to do next. Plain text in, plain text out.
import type { ChoppaInstance, DecoratedFunction } from '../analysis/model.js';
import { describeValue, formatBytes, formatDuration, formatRelativeTime, oneLine } from './format.js';
import type { HistoryEntry } from './result-store.js';
import type { RunRecord } from './run-record.js';

/** Up to three runs of one call: arguments, outcome, duration or cached. */
function historyLines(history: readonly HistoryEntry[], now: number): string[] {
  if (history.length < 2) return [];
  return [
    '',
    'Last runs of this call:',
    '',
    ...history.slice(0, 3).map((entry) => {
      const took = entry.cached ? 'cached' : formatDuration(entry.durationMs);
      return `- \`(${oneLine(entry.args, 40)})\` → ${oneLine(entry.outcome, 50)} · ${took} · ${formatRelativeTime(entry.finishedAt, now)}`;
    }),
  ];
}

function fence(text: string, language = 'python'): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${text}\n${ticks}`;
}

function tail(text: string, lines = 10): string {
  const all = text.replace(/\n$/, '').split('\n');
  return all.length <= lines ? all.join('\n') : ['…', ...all.slice(-lines)].join('\n');
}

/** Where a hover is shown, which decides what it need not repeat, and what it adds about the result. */
export interface HoverPlace {
  /** On the function's name, where the result diagnostic (call, value, duration) shows with it. */
  besideDiagnostic?: boolean;
  /** Why the result no longer matches the code, when it does not. */
  stale?: string;
  /** The runs of the same call, newest first. */
  history?: HistoryEntry[];
  now?: number;
}

/** Hover Markdown for a decorated function (or one call of it) and its last run, if any. */
export function functionHover(fn: DecoratedFunction, record: RunRecord | undefined, place: HoverPlace = {}): string {
  const header = `**@${fn.instance}.${fn.kind}** \`${fn.name}\``;
  if (!record) {
    return `${header}\n\nNot run yet. Use the code action **Run remotely** (or **Run as artifact**) to run it.`;
  }
  const parts = [header, ''];
  if (place.stale !== undefined) parts.push(`**Stale:** ${place.stale}. This result is from older code or inputs; run it again.`, '');
  // Beside the diagnostic, say only what it does not: when, and the full value when it was cut.
  const ago = formatRelativeTime(record.finishedAt, place.now);
  const took = record.cached ? `cached from a run ${formatRelativeTime(record.cached.computedAt, place.now)}` : formatDuration(record.durationMs);
  const when = place.besideDiagnostic ? ago : `${took} on ${record.backend}, ${ago}`;
  const call = `\`${fn.name}(${record.args})\``;
  if (record.status === 'cancelled') {
    parts.push(`Last run ${call} was **cancelled** (${when}).`);
  } else if (record.error) {
    parts.push(`Last run ${call} **raised** \`${record.error.type}\` (${when}):`, '', fence(record.error.message, 'text'));
    if (record.error.traceback) parts.push('', 'Remote traceback:', '', fence(tail(record.error.traceback, 15), 'text'));
  } else if (record.ref) {
    const ref = record.ref;
    parts.push(
      `Last run ${call} returned an **ArtifactRef** (${when}):`,
      '',
      `- path: \`${ref.path}\``,
      `- size: ${formatBytes(ref.size)} · type: \`${ref.type}\``,
      `- created: ${formatRelativeTime(ref.created, place.now)} · sha256: \`${ref.sha256.slice(0, 16)}…\``,
      '',
      ref.table ?? fence(ref.preview),
      '',
      'Dereference it with the code action **Dereference last artifact** (command `choppa.dereference`): it is downloaded into `.choppa/artifacts/` with a preview.',
    );
  } else if (record.value) {
    const repr = record.value.repr;
    const shown = place.besideDiagnostic && !repr.includes('\n') && oneLine(repr, 60) === repr;
    parts.push(`Last run ${call} returned \`${describeValue(record.value)}\` (${when})${shown ? '.' : ':'}`);
    if (!shown) parts.push('', record.value.table ?? fence(repr));
  }
  const output = [record.stdout && `stdout:\n${tail(record.stdout)}`, record.stderr && `stderr:\n${tail(record.stderr)}`].filter(Boolean);
  if (output.length > 0) parts.push('', 'Output:', '', fence(output.join('\n'), 'text'));
  parts.push(...historyLines(place.history ?? [], place.now ?? Date.now()));
  return parts.join('\n');
}

/** Where an instance's runs go, as the backend selection sees it. */
export interface InstanceContext {
  runsGoTo: string;
  /** Where artifacts go when the code names no `artifact_dir` (the setting, or the backend's default). */
  artifactsGoTo: string;
  problem: string | undefined;
  /** The resolved configuration, rendered like `databricks auth describe` (secrets redacted). */
  configuration: string;
}

/** Hover Markdown for a `Choppa(...)` instance: what the analysis read and where runs go. */
export function instanceHover(instance: ChoppaInstance, context: InstanceContext): string {
  const show = (value: unknown): string => (value === undefined ? 'not set' : value === null ? '`None`' : `\`${String(value)}\``);
  const size = instance.resultSizeMax === undefined || instance.resultSizeMax === null
    ? show(instance.resultSizeMax)
    : `${formatBytes(instance.resultSizeMax)} (\`${instance.resultSizeMax}\` bytes)`;
  const lines = [
    `**Choppa** instance \`${instance.name}\``,
    '',
    `- cluster_id: ${show(instance.clusterId)}`,
    `- artifact_dir: ${show(instance.artifactDir)}`,
    `- result_size_max: ${size}`,
    `- runs go to: ${context.runsGoTo}`,
    `- artifacts go to: ${instance.artifactDir ? `\`${instance.artifactDir}\`` : context.artifactsGoTo}`,
  ];
  if (instance.dynamic.length > 0) lines.push(`- not constant, so not known here: ${instance.dynamic.map((name) => `\`${name}\``).join(', ')}`);
  if (context.problem) lines.push('', `**Problem:** ${context.problem}`);
  lines.push('', 'Configuration:', '', fence(context.configuration, 'text'));
  return lines.join('\n');
}
