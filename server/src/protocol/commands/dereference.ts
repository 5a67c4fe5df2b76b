// `choppa.dereference`: download an artifact (the last one of a function, or a given ref) into
// `.choppa/artifacts/`, verify it, write a preview and open the preview where the client can.
import type { CancellationToken, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import type { DereferenceResult } from '../../engine/workspace.js';
import type { Session } from '../../session.js';
import { parseDereferenceArguments } from '../extensions.js';
import { openOrTell } from '../open-document.js';
import { withProgress } from '../progress.js';

export async function dereference(
  session: Session,
  raw: unknown,
  token: CancellationToken,
  attached: WorkDoneProgressReporter | undefined,
): Promise<Omit<DereferenceResult, 'ref'>> {
  const parsed = parseDereferenceArguments(raw);
  if (!parsed.ok) throw new ResponseError(ErrorCodes.InvalidParams, `choppa.dereference ${parsed.message}`);
  const args = parsed.value;
  await session.ready;
  let ref;
  let madeOn: string | undefined;
  let workspace;
  if ('uri' in args) {
    const path = session.pathOf(args.uri);
    if (path === undefined) throw new ResponseError(ErrorCodes.InvalidParams, `${args.uri} is not a file on disk.`);
    workspace = session.workspaceFor(path);
    const latest = workspace.latestArtifact(path, args.function, args.call);
    ref = latest?.ref;
    madeOn = latest?.madeOn;
    if (!ref) {
      const message = `\`${args.function}\` has no artifact yet: run it as an artifact (or past its result_size_max) first.`;
      session.error(`choppa: ${message}`);
      throw new ResponseError(ErrorCodes.InvalidRequest, message);
    }
  } else {
    ref = args.ref;
    workspace = session.workspaceFor(session.roots[0] ?? process.cwd());
  }
  const where = typeof ref === 'string' ? ref : ref.path;
  const result = await withProgress(session, `Dereferencing ${where}`, token, attached, ({ signal, report }) =>
    workspace.dereference(ref, { signal, onProgress: report, ...(madeOn !== undefined ? { madeOn } : {}) }),
  );
  if ('failure' in result) {
    session.error(`choppa: ${result.failure}`);
    throw new ResponseError(ErrorCodes.InternalError, result.failure);
  }
  openOrTell(session, result.previewPath, `preview of ${result.localPath.split('/').pop()}`);
  const { ref: _ref, ...summary } = result;
  return summary;
}
