// The Command Execution API 1.2 as the Databricks backend uses it (databricks-api.md §1): create
// a python execution context and wait until it runs, execute one command and wait for it with a
// fast-start backoff, cancel it, destroy the context. Results come back as a union; the ANSI and
// HTML of error results are stripped here so that nothing above sees them.
import type { DatabricksApiError } from './api-error.js';
import type { DatabricksHttpClient } from './http-client.js';

/** `results` of `commands/status` (§1.3); only what the backend reads. */
export interface CommandResults {
  resultType?: string;
  data?: unknown;
  summary?: string;
  cause?: string;
  truncated?: boolean;
}

interface CommandStatusResponse {
  id?: string;
  status?: string;
  results?: CommandResults | null;
}

/** How one command ended. */
export type CommandOutcome =
  /** `Finished` with text (or any non-error) results. */
  | { kind: 'text'; data: string; truncated: boolean }
  /** `Finished` with `resultType: "error"`: the command raised. `detail` is the cleaned cause. */
  | { kind: 'error'; message: string; detail: string }
  /** The command itself ended `Error` (the context or cluster went away). */
  | { kind: 'ended'; status: string; message: string }
  /**
   * The command was cancelled: `Cancelled`, or as the service reports it after `commands/cancel`,
   * `Finished` with an error result whose `cause` holds `CommandCancelledException`.
   */
  | { kind: 'cancelled'; message: string }
  /** A call failed: `execute` means the command was never accepted. */
  | { kind: 'api'; phase: 'execute' | 'status'; error: DatabricksApiError }
  /** `deadline` passed first; the command was cancelled with `commands/cancel`. */
  | { kind: 'deadline' };

/** Delays between status checks: `firstMs`, growing by `factor` up to `maxMs`. */
export interface PollSchedule {
  firstMs: number;
  maxMs: number;
  factor: number;
}

/** Which context a command runs in. */
export interface ContextAddress {
  clusterId: string;
  contextId: string;
}

export interface ExecuteOptions {
  schedule: PollSchedule;
  /** Read before every wait: once `Date.now()` passes it, the command is cancelled. */
  deadline?: () => number | undefined;
  /**
   * Whether re-sending `commands/execute` after a broken connection is harmless. The runner's
   * `start` and `cancel` are (a known run id is answered, not started twice); `poll` would at
   * worst lose one streamed chunk, whose text the final envelope still carries.
   */
  idempotent?: boolean;
  /** Aborts the HTTP calls themselves (dispose), not the command. */
  signal?: AbortSignal;
}

const TERMINAL_STATUSES = new Set(['Finished', 'Error', 'Cancelled']);

/**
 * Status checks that go back to back after `commands/execute`, before the schedule's gaps: a short
 * command ends within a check or two, and even a 1 ms timer cost a quarter of a warm run on a fast
 * workspace. Each waits for the previous answer, so on a real workspace (tens of milliseconds a
 * round trip) this is the rate the schedule's first gaps (1, 2, 3 ms) already gave.
 */
export const BACK_TO_BACK_CHECKS = 3;

/**
 * Checks also go back to back this long after `commands/execute` was answered: a command that
 * missed the first three waited 1 ms and then 2 more. On a real workspace three round trips take
 * longer than this; with sub-millisecond round trips it is this long at one check per answer.
 */
export const BACK_TO_BACK_WINDOW_MS = 5;

/** How long a command past its deadline waits for the answer to its `commands/cancel`. */
const CANCEL_ANSWER_WAIT_MS = 250;

/**
 * Executes `command` (python) in a context and waits until it is `Finished`, `Error` or
 * `Cancelled`. The first `BACK_TO_BACK_CHECKS` status checks (and any within `BACK_TO_BACK_WINDOW_MS`)
 * follow at once, then `schedule.firstMs` backing off, so a short command's answer arrives within
 * a round trip of it finishing.
 */
export async function executeCommand(
  client: DatabricksHttpClient,
  address: ContextAddress,
  command: string,
  options: ExecuteOptions,
): Promise<CommandOutcome> {
  const { clusterId, contextId } = address;
  const executed = await client.request<{ id?: unknown }>('POST', '/api/1.2/commands/execute', {
    body: { clusterId, contextId, language: 'python', command },
    ...(options.idempotent ? { idempotent: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!executed.ok) return { kind: 'api', phase: 'execute', error: executed.error };
  const commandId = executed.value.id;
  if (typeof commandId !== 'string' && typeof commandId !== 'number') {
    return { kind: 'ended', status: 'Error', message: 'commands/execute answered without a command id' };
  }
  const id = String(commandId);
  // The first checks go at once, as the official SDKs' waiter's first does: a short runner
  // command is often finished by then, and a fixed first wait was most of a warm run's time.
  let delay = 0;
  let checks = 0;
  const accepted = Date.now();
  for (;;) {
    const deadline = options.deadline?.();
    if (deadline !== undefined && Date.now() + delay > deadline) {
      await pause(Math.max(0, deadline - Date.now()));
      // The service may hold the answer until the interrupt lands, which is what was too slow
      // already: the cancel is sent, but the caller is answered after a short wait at most.
      await Promise.race([cancelCommand(client, address, id, options.signal), pause(CANCEL_ANSWER_WAIT_MS)]);
      return { kind: 'deadline' };
    }
    if (delay > 0) await pause(delay, options.signal);
    checks += 1;
    if (checks >= BACK_TO_BACK_CHECKS && Date.now() - accepted >= BACK_TO_BACK_WINDOW_MS) {
      delay = delay === 0 ? options.schedule.firstMs : Math.min(options.schedule.maxMs, Math.ceil(delay * options.schedule.factor));
    }
    const status = await client.request<CommandStatusResponse>('GET', '/api/1.2/commands/status', {
      query: { clusterId, contextId, commandId: id },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!status.ok) return { kind: 'api', phase: 'status', error: status.error };
    const state = status.value.status ?? '';
    if (!TERMINAL_STATUSES.has(state)) continue;
    return commandOutcome(state, status.value.results ?? undefined);
  }
}

/** `commands/cancel`, best effort: the answer does not matter to any caller. */
export async function cancelCommand(
  client: DatabricksHttpClient,
  address: ContextAddress,
  commandId: string,
  signal?: AbortSignal,
): Promise<void> {
  await client.request('POST', '/api/1.2/commands/cancel', {
    body: { ...address, commandId },
    idempotent: true,
    ...(signal ? { signal } : {}),
  });
}

/** A context that runs, or why there is none. */
export type ContextResult = { ok: true; id: string } | { ok: false; error: DatabricksApiError } | { ok: false; status: string };

/**
 * `contexts/create` (python), then `contexts/status` until `Running`. `{status}` is a context
 * that ended `Error` (or did not run before `timeoutMs`); it has been destroyed.
 */
export async function createContext(
  client: DatabricksHttpClient,
  clusterId: string,
  options: { schedule: PollSchedule; timeoutMs: number; signal?: AbortSignal },
): Promise<ContextResult> {
  const signal = options.signal ? { signal: options.signal } : {};
  const created = await client.request<{ id?: unknown }>('POST', '/api/1.2/contexts/create', {
    body: { clusterId, language: 'python' },
    ...signal,
  });
  if (!created.ok) return { ok: false, error: created.error };
  const id = created.value.id;
  if (typeof id !== 'string' && typeof id !== 'number') return { ok: false, status: 'created without an id' };
  const contextId = String(id);
  const deadline = Date.now() + options.timeoutMs;
  let delay = options.schedule.firstMs;
  for (;;) {
    const status = await client.request<{ status?: string }>('GET', '/api/1.2/contexts/status', {
      query: { clusterId, contextId },
      ...signal,
    });
    if (!status.ok) {
      await destroyContext(client, { clusterId, contextId });
      return { ok: false, error: status.error };
    }
    const state = status.value.status ?? 'unknown';
    if (state === 'Running') return { ok: true, id: contextId };
    if (state !== 'Pending' || Date.now() > deadline || options.signal?.aborted === true) {
      await destroyContext(client, { clusterId, contextId });
      return { ok: false, status: state === 'Pending' ? 'still Pending' : state };
    }
    await pause(delay, options.signal);
    delay = Math.min(options.schedule.maxMs, Math.ceil(delay * options.schedule.factor));
  }
}

/** `contexts/destroy`, best effort and without retries: used on the way out. */
export async function destroyContext(client: DatabricksHttpClient, address: ContextAddress): Promise<void> {
  await client.request('POST', '/api/1.2/contexts/destroy', { body: address, timeoutMs: 10_000 });
}

// Escape sequences as py-sdk strips them from `cause` (§1.4).
const ANSI_PATTERN = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]/g;

/** Removes ANSI escape sequences (the colours of Python tracebacks in `cause`). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, '');
}

/** Removes HTML tags and decodes the entities `summary` uses (`<span class='ansi-red-fg'>`). */
export function stripHtml(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * A readable one-line message for error results: the cleaned summary, else the cause's last line,
 * else `data`, where a command that ended `Error` (not one that raised) carries its message
 * (dbt-databricks `api_client.py` `_extract_error_message` reads it there).
 */
export function errorResultMessage(results: CommandResults | undefined): string {
  const summary = stripHtml(stripAnsi(results?.summary ?? '')).trim();
  if (summary !== '') return summary.split('\n')[0]!.trim();
  const cause = stripAnsi(results?.cause ?? '').trim();
  const last = cause.split('\n').filter((line) => line.trim() !== '').pop();
  if (last !== undefined) return last.trim();
  const data = typeof results?.data === 'string' ? stripAnsi(results.data).trim() : '';
  const first = data.split('\n').find((line) => line.trim() !== '');
  return first?.trim() ?? 'the command failed without a message';
}

/** How a command that reached the terminal `status` ended, from its `results`. */
export function commandOutcome(status: string, results: CommandResults | undefined): CommandOutcome {
  if (status === 'Finished' && results?.resultType !== 'error') {
    const data = results?.data;
    const text = typeof data === 'string' ? data : data === undefined || data === null ? '' : JSON.stringify(data);
    return { kind: 'text', data: text, truncated: results?.truncated === true };
  }
  const message = errorResultMessage(results);
  // The same exception ends the command of a context that was shut down (destroyed or restarted
  // by someone else), thrown from the context's shutdown (paiqo/Databricks-VSCode#132): the
  // context is gone, nobody cancelled the command.
  if (/CommandCancelledException/.test(results?.cause ?? '') && /ExecContextState\.(\$anonfun\$)?shutdown/.test(results?.cause ?? '')) {
    return { kind: 'ended', status, message: 'the execution context was shut down (destroyed or restarted) while the command ran' };
  }
  if (status === 'Cancelled' || /CommandCancelledException/.test(results?.cause ?? '')) {
    return { kind: 'cancelled', message: cancelledMessage(results) };
  }
  if (status === 'Finished') return { kind: 'error', message, detail: stripAnsi(results?.cause ?? '').trim() };
  return { kind: 'ended', status, message: results ? message : `the command ended ${status}` };
}

/** A readable sentence for a cancelled command, instead of the JVM stack frame its cause ends with. */
function cancelledMessage(results: CommandResults | undefined): string {
  const summary = stripHtml(stripAnsi(results?.summary ?? '')).trim().split('\n')[0]?.trim() ?? '';
  return summary !== '' && !/^\s*at\s/.test(summary) ? summary : 'the command was cancelled';
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true || ms <= 0) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
