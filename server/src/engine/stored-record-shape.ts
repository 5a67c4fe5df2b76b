// Whether a record read back from `.choppa/` (a run's result, a submitted run) has every field
// the rest of the engine reads, with its type: a hand-edited or half-damaged record must be left
// out where it is read, not crash a dereference (a ref without its sha256) or `runs` later on.
import type { SubmissionRecord } from './result-store.js';
import type { RunRecord } from './run-record.js';

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

function isRef(value: unknown): boolean {
  return (
    isObject(value) &&
    isString(value['path']) &&
    isCount(value['size']) &&
    isString(value['sha256']) &&
    /^[0-9a-f]{64}$/.test(value['sha256']) &&
    isString(value['type']) &&
    isString(value['preview']) &&
    isString(value['created']) &&
    optional(value['table'], isString)
  );
}

function isValue(value: unknown): boolean {
  return (
    isObject(value) &&
    isString(value['repr']) &&
    isString(value['type']) &&
    (value['size'] === null || isCount(value['size'])) &&
    optional(value['pickle'], isString) &&
    optional(value['table'], isString)
  );
}

function isFrame(value: unknown): boolean {
  return isObject(value) && typeof value['line'] === 'number' && typeof value['relativeLine'] === 'number' && isString(value['function']) && isString(value['text']);
}

function isError(value: unknown): boolean {
  return (
    isObject(value) &&
    isString(value['type']) &&
    isString(value['message']) &&
    (value['origin'] === 'remote' || value['origin'] === 'backend') &&
    Array.isArray(value['frames']) &&
    value['frames'].every(isFrame) &&
    optional(value['relativeLine'], (line) => typeof line === 'number') &&
    optional(value['traceback'], isString)
  );
}

function isVersion(value: unknown): boolean {
  return isObject(value) && isString(value['hash']) && isString(value['source']) && isObject(value['inputs']) && optional(value['bundle'], isString) && optional(value['caller'], isString);
}

/** Whether `value` is a whole `RunRecord`: the fields it has are well formed, and an error run carries its error. */
export function isRunRecord(value: unknown): value is RunRecord {
  if (!isObject(value)) return false;
  const status = value['status'];
  const common =
    isString(value['runId']) &&
    isString(value['function']) &&
    (value['mode'] === 'remote' || value['mode'] === 'artifact') &&
    (status === 'ok' || status === 'error' || status === 'cancelled') &&
    isString(value['args']) &&
    isString(value['stdout']) &&
    isString(value['stderr']) &&
    isCount(value['durationMs']) &&
    isString(value['backend']) &&
    isString(value['finishedAt']) &&
    optional(value['call'], isString) &&
    optional(value['version'], isVersion) &&
    optional(value['logPath'], isString) &&
    optional(value['boundTo'], isString) &&
    optional(value['cached'], (cached) => isObject(cached) && isString(cached['from']) && isString(cached['computedAt'])) &&
    optional(value['submitted'], (submitted) => isObject(submitted) && isString(submitted['runId']));
  if (!common) return false;
  if (status === 'error' && !isError(value['error'])) return false;
  return optional(value['ref'], isRef) && optional(value['value'], isValue) && optional(value['error'], isError);
}

function isTarget(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value['kind'] === 'local') return true;
  if (value['kind'] === 'databricks') return isString(value['clusterId']);
  return value['kind'] === 'dask' && isString(value['scheduler']);
}

/** Whether `value` is a whole `SubmissionRecord`: what `runs`, `wait` and the poller read is there. */
export function isSubmissionRecord(value: unknown): value is SubmissionRecord {
  return (
    isObject(value) &&
    isString(value['id']) &&
    isString(value['key']) &&
    isString(value['function']) &&
    isString(value['args']) &&
    isString(value['idempotencyToken']) &&
    (value['compute'] === 'cluster' || value['compute'] === 'serverless') &&
    isTarget(value['target']) &&
    isString(value['state']) &&
    isString(value['backend']) &&
    isString(value['createdAt']) &&
    !Number.isNaN(Date.parse(value['createdAt'])) &&
    isString(value['updatedAt']) &&
    optional(value['call'], isString) &&
    optional(value['version'], isVersion) &&
    optional(value['stateMessage'], isString) &&
    optional(value['handle'], (handle) => isObject(handle) && isString(handle['runId']) && isObject(handle['data']) && optional(handle['runPageUrl'], isString))
  );
}
