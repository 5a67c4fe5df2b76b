// `choppa.jobRuns {uri?}`: the one-time job runs this project submitted (`jobs/runs/list`, the
// run names choppa gives them), newest first, with state, duration and page URL.
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import { projectJobRuns, type JobRunSummary } from '../../clusters/cluster-operations.js';
import type { Session } from '../../session.js';
import { requireScope } from './clusters.js';

export async function jobRuns(session: Session, raw: unknown): Promise<{ runs: JobRunSummary[] }> {
  const { scope } = requireScope(session, raw, 'choppa.jobRuns');
  const result = await projectJobRuns(scope.client, scope.host);
  if (!result.ok) throw new ResponseError(ErrorCodes.InternalError, result.failure);
  return { runs: result.runs };
}
