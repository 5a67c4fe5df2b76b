// `choppa.cancel`, `choppa.showLog` and `choppa.listRuns`: stop a run where it runs (in flight
// or submitted), open a run's output log, and list every run the workspace is following.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import type { Session } from '../../session.js';
import { openOrTell } from '../open-document.js';
import { parseRunTargetArguments } from '../extensions.js';
import { confinedPath } from '../../engine/state-dir.js';
import { runLogPath } from '../../engine/run-log.js';
import { hasEnded } from '../../engine/submissions.js';

function target(session: Session, raw: unknown, command: string) {
  const parsed = parseRunTargetArguments(raw);
  if (!parsed.ok) throw new ResponseError(ErrorCodes.InvalidParams, `${command} ${parsed.message}`);
  const args = parsed.value;
  const path = 'uri' in args ? session.pathOf(args.uri) : undefined;
  if ('uri' in args && path === undefined) throw new ResponseError(ErrorCodes.InvalidParams, `${args.uri} is not a file on disk.`);
  const workspace = ('id' in args ? session.workspaceWithRun(args.id) : undefined) ?? session.workspaceFor(path ?? session.roots[0] ?? process.cwd());
  return { args, path, workspace };
}

export async function cancelRun(session: Session, raw: unknown): Promise<{ cancelled: boolean; message: string }> {
  const { args, path, workspace } = target(session, raw, 'choppa.cancel');
  const key = 'uri' in args && path !== undefined ? workspace.key(path, args.function) : undefined;
  if (workspace.cancelRunning({ ...('id' in args ? { runId: args.id } : {}), ...(key ? { key } : {}) })) {
    return { cancelled: true, message: 'cancelling the run' };
  }
  const submission = 'id' in args ? workspace.store.submission(args.id) : path !== undefined && 'function' in args ? workspace.pendingSubmission(path, args.function) : undefined;
  if (!submission) {
    const message = 'There is no run of it in flight to cancel.';
    session.info(`choppa: ${message}`);
    return { cancelled: false, message };
  }
  const result = await workspace.submissions.cancel(submission.id);
  if ('failure' in result) {
    session.error(`choppa: ${result.failure}`);
    return { cancelled: false, message: result.failure };
  }
  return { cancelled: true, message: `cancelled submitted run ${submission.handle?.runId ?? submission.id}` };
}

export function showLog(session: Session, raw: unknown): { path: string } {
  const { args, path, workspace } = target(session, raw, 'choppa.showLog');
  const running = workspace.running().find((run) => ('id' in args ? run.runId === args.id : path !== undefined && run.key === workspace.key(path, args.function)));
  const stored = 'uri' in args && path !== undefined ? workspace.latestResult(path, args.function) : undefined;
  // A submitted job by its id: its log is written once it ends (its output comes with its end).
  const submitted = 'id' in args && !running ? workspace.store.submission(args.id) : undefined;
  if (submitted && !hasEnded(submitted)) {
    const message = `The job of ${submitted.function} (${submitted.handle?.runId ?? submitted.id}) has no log until it ends: its output comes back with its end${submitted.handle?.runPageUrl ? `; its page is ${submitted.handle.runPageUrl}` : ''}.`;
    session.info(`choppa: ${message}`);
    throw new ResponseError(ErrorCodes.InvalidRequest, message);
  }
  const logs = join(workspace.stateDir, 'logs');
  // A stored log path is data from `.choppa/state.json`: only a file really inside `.choppa/logs` is shown.
  const storedLog = stored?.logPath === undefined ? undefined : confinedPath(logs, stored.logPath);
  const submittedLog = submitted ? confinedPath(logs, runLogPath(workspace.stateDir, submitted.function, submitted.id)) : undefined;
  const logPath = running?.logPath ?? storedLog ?? (submittedLog !== undefined && existsSync(submittedLog) ? submittedLog : undefined);
  if (!logPath) {
    const message = 'id' in args ? `No run or job ${args.id} with a log here.` : 'This function has no run log yet: run it first.';
    session.info(`choppa: ${message}`);
    throw new ResponseError(ErrorCodes.InvalidRequest, message);
  }
  openOrTell(session, logPath, 'run log');
  return { path: logPath };
}

export function listRuns(session: Session, raw: unknown): unknown {
  const uri = raw !== null && typeof raw === 'object' && typeof (raw as { uri?: unknown }).uri === 'string' ? (raw as { uri: string }).uri : undefined;
  const path = uri === undefined ? undefined : session.pathOf(uri);
  const workspace = session.workspaceFor(path ?? session.roots[0] ?? process.cwd());
  const now = Date.now();
  return {
    running: workspace.running().map(({ controller: _controller, ...run }) => ({ ...run, ageMs: now - Date.parse(run.startedAt) })),
    submitted: workspace.store.allSubmissions().map(({ payload: _payload, ...record }) => ({ ...record, ageMs: now - Date.parse(record.createdAt) })),
    // One entry per result key: the function, the call (its arguments) and the code version.
    results: [...workspace.store.entries()].map(([key, record]) => ({
      key,
      function: record.function,
      call: record.call ?? record.args,
      args: record.args,
      version: record.version?.hash,
      status: record.status,
      finishedAt: record.finishedAt,
      durationMs: record.durationMs,
      cached: record.cached !== undefined,
      ref: record.ref?.path,
      history: workspace.store.history(key, record.call ?? record.args.trim()),
    })),
  };
}
