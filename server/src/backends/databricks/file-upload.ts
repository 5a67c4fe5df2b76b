// Writes small files (a job's runner and payload) where a logical path says, through the API that
// owns its root (databricks-api.md §4): `/Workspace/...` by workspace import after mkdirs,
// `/Volumes/...` by the Files API, `dbfs:/...` by DBFS put (create/add-block/close past 1 MB).
import { posix } from 'node:path';
import type { BackendFailure } from '../backend.js';
import type { DatabricksApiError } from './api-error.js';
import { storageLocation, type TransferContext } from './artifact-transfer.js';
import { describeApiFailure } from './failure-messages.js';

/** DBFS `put` and `add-block` take at most 1 MB of data each (§4.3). */
const DBFS_BLOCK_BYTES = 1024 * 1024;
/** Workspace import refuses content over 10 MB (§4.1). */
const WORKSPACE_IMPORT_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Writes `content` at the logical path `path`, replacing what is there and creating the parent
 * folders. Every call it makes is safe to repeat, so the client's retries apply, except DBFS
 * `add-block`, which is never repeated.
 */
export async function uploadFile(
  context: TransferContext,
  path: string,
  content: Uint8Array,
  signal?: AbortSignal,
): Promise<{ ok: true } | BackendFailure> {
  const location = storageLocation(path);
  if (location === undefined) {
    return { failure: `${path} is not a storage path the Databricks backend can write (expected /Workspace/..., /Volumes/... or dbfs:/... without \`..\`)` };
  }
  const { client } = context;
  const common = { idempotent: true, ...(signal ? { signal } : {}) };
  const failed = (error: DatabricksApiError) => ({ failure: describeApiFailure(error, `uploading ${path}`, context.host, client.configFile) });

  if (location.api === 'workspace') {
    if (content.length > WORKSPACE_IMPORT_MAX_BYTES) {
      return { failure: `${path} is ${content.length} bytes, over the workspace import limit of 10 MB; use a /Volumes/... artifact_dir` };
    }
    const folder = await client.request('POST', '/api/2.0/workspace/mkdirs', { body: { path: posix.dirname(location.path) }, ...common });
    if (!folder.ok) return failed(folder.error);
    // AUTO keeps a `.py` without the notebook header a workspace file, which a python task runs.
    const imported = await client.request('POST', '/api/2.0/workspace/import', {
      body: { path: location.path, content: Buffer.from(content).toString('base64'), format: 'AUTO', overwrite: true },
      ...common,
    });
    return imported.ok ? { ok: true } : failed(imported.error);
  }

  if (location.api === 'files') {
    const encode = (value: string) => value.split('/').map(encodeURIComponent).join('/');
    const folder = await client.request('PUT', `/api/2.0/fs/directories${encode(posix.dirname(location.path))}`, common);
    if (!folder.ok) return failed(folder.error);
    const put = await client.upload('PUT', `/api/2.0/fs/files${encode(location.path)}`, content, { query: { overwrite: true }, ...common });
    return put.ok ? { ok: true } : failed(put.error);
  }

  if (content.length <= DBFS_BLOCK_BYTES) {
    const put = await client.request('POST', '/api/2.0/dbfs/put', {
      body: { path: location.path, contents: Buffer.from(content).toString('base64'), overwrite: true },
      ...common,
    });
    return put.ok ? { ok: true } : failed(put.error);
  }
  const created = await client.request<{ handle?: number }>('POST', '/api/2.0/dbfs/create', { body: { path: location.path, overwrite: true }, ...common });
  if (!created.ok) return failed(created.error);
  const handle = created.value.handle;
  if (typeof handle !== 'number') return { failure: `DBFS create for ${path} returned no handle` };
  for (let offset = 0; offset < content.length; offset += DBFS_BLOCK_BYTES) {
    const data = Buffer.from(content.subarray(offset, offset + DBFS_BLOCK_BYTES)).toString('base64');
    // A repeated block would be appended twice, so a broken add-block is not retried.
    const block = await client.request('POST', '/api/2.0/dbfs/add-block', { body: { handle, data }, idempotent: false, ...(signal ? { signal } : {}) });
    if (!block.ok) return failed(block.error);
  }
  const closed = await client.request('POST', '/api/2.0/dbfs/close', { body: { handle }, ...(signal ? { signal } : {}) });
  return closed.ok ? { ok: true } : failed(closed.error);
}
