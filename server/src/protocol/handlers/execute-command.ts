// `workspace/executeCommand`: dispatches each command of `protocol/extensions.ts` to its
// implementation in `protocol/commands/`.
import type { CancellationToken, ExecuteCommandParams, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import type { Session } from '../../session.js';
import { COMMANDS } from '../extensions.js';

// The commands' modules (and the engine, bundle and cluster code behind them) load on the first
// command, not at start: `initialize` is answered without them. Each is kept once imported: an
// `import()` of a loaded module still goes through node's loader (tens of microseconds a run).
const loadOnce = <T>(load: () => Promise<T>, kept?: Promise<T>) => (): Promise<T> => (kept ??= load());
const commands = {
  dereference: loadOnce(() => import('../commands/dereference.js')),
  run: loadOnce(() => import('../commands/run.js')),
  moreActions: loadOnce(() => import('../commands/more-actions.js')),
  runs: loadOnce(() => import('../commands/runs.js')),
  submit: loadOnce(() => import('../commands/submit.js')),
  clusters: loadOnce(() => import('../commands/clusters.js')),
  startCluster: loadOnce(() => import('../commands/start-cluster.js')),
  restartContext: loadOnce(() => import('../commands/restart-context.js')),
  openClusterPage: loadOnce(() => import('../commands/open-cluster-page.js')),
  jobRuns: loadOnce(() => import('../commands/job-runs.js')),
};

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
      return (await commands.run()).runFunction(session, argument, 'remote', token, attached);
    case COMMANDS.runArtifact:
      return (await commands.run()).runFunction(session, argument, 'artifact', token, attached);
    case COMMANDS.submit:
      return (await commands.submit()).submitFunction(session, argument);
    case COMMANDS.cancel:
      return (await commands.runs()).cancelRun(session, argument);
    case COMMANDS.dereference:
      return (await commands.dereference()).dereference(session, argument, token, attached);
    case COMMANDS.showLog:
      return (await commands.runs()).showLog(session, argument);
    case COMMANDS.listRuns:
      return (await commands.runs()).listRuns(session, argument);
    case COMMANDS.moreActions:
      return (await commands.moreActions()).moreActions(session, argument);
    case COMMANDS.clusters:
      return (await commands.clusters()).listClusters(session, argument);
    case COMMANDS.startCluster:
      return (await commands.startCluster()).startClusterCommand(session, argument, token, attached);
    case COMMANDS.restartContext:
      return (await commands.restartContext()).restartContext(session, argument);
    case COMMANDS.openClusterPage:
      return (await commands.openClusterPage()).openClusterPage(session, argument);
    case COMMANDS.jobRuns:
      return (await commands.jobRuns()).jobRuns(session, argument);
    default:
      throw new ResponseError(ErrorCodes.InvalidRequest, `Unknown command ${params.command}`);
  }
}
