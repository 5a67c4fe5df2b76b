// `workspace/executeCommand`: dispatches each command of `protocol/extensions.ts` to its
// implementation in `protocol/commands/`.
import { ErrorCodes, ResponseError, type CancellationToken, type ExecuteCommandParams, type WorkDoneProgressReporter } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { dereference } from '../commands/dereference.js';
import { runFunction } from '../commands/run.js';
import { moreActions } from '../commands/more-actions.js';
import { cancelRun, listRuns, showLog } from '../commands/runs.js';
import { submitFunction } from '../commands/submit.js';
import { COMMANDS } from '../extensions.js';
import { listClusters } from '../commands/clusters.js';
import { startClusterCommand } from '../commands/start-cluster.js';
import { restartContext } from '../commands/restart-context.js';
import { openClusterPage } from '../commands/open-cluster-page.js';
import { jobRuns } from '../commands/job-runs.js';

export async function executeCommand(
  session: Session,
  params: ExecuteCommandParams,
  token: CancellationToken,
  workDone: WorkDoneProgressReporter | undefined,
): Promise<unknown> {
  // Only use the reporter the library attached when the client really sent a token.
  const attached = params.workDoneToken !== undefined ? workDone : undefined;
  const [argument] = params.arguments ?? [];
  switch (params.command) {
    case COMMANDS.run:
      return runFunction(session, argument, 'remote', token, attached);
    case COMMANDS.runArtifact:
      return runFunction(session, argument, 'artifact', token, attached);
    case COMMANDS.submit:
      return submitFunction(session, argument);
    case COMMANDS.cancel:
      return cancelRun(session, argument);
    case COMMANDS.dereference:
      return dereference(session, argument, token, attached);
    case COMMANDS.showLog:
      return showLog(session, argument);
    case COMMANDS.listRuns:
      return listRuns(session, argument);
    case COMMANDS.moreActions:
      return moreActions(session, argument);
    case COMMANDS.clusters:
      return listClusters(session, argument);
    case COMMANDS.startCluster:
      return startClusterCommand(session, argument, token, attached);
    case COMMANDS.restartContext:
      return restartContext(session, argument);
    case COMMANDS.openClusterPage:
      return openClusterPage(session, argument);
    case COMMANDS.jobRuns:
      return jobRuns(session, argument);
    default:
      throw new ResponseError(ErrorCodes.InvalidRequest, `Unknown command ${params.command}`);
  }
}
