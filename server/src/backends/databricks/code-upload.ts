// Ships a code bundle (a content-hashed zip) to its storage path once: a status call first
// (workspace `get-status`, Files API `HEAD`, DBFS `get-status`), an upload only when the file is
// missing or has another size. The name carries the hash, so a file of the right size there is
// that version; the runner still checks the sha256 before it imports anything from it.
import type { BackendFailure, CodeUpload } from '../backend.js';
import { storageLocation, type TransferContext } from './artifact-transfer.js';
import { describeApiFailure } from './failure-messages.js';
import { uploadFile } from './file-upload.js';

export async function shipCode(context: TransferContext, code: CodeUpload, signal?: AbortSignal): Promise<{ uploaded: boolean } | BackendFailure> {
  const present = await remoteSize(context, code.path, signal);
  if (typeof present === 'object') return present;
  if (present === code.zip.length) return { uploaded: false };
  const uploaded = await uploadFile(context, code.path, code.zip, signal);
  return 'failure' in uploaded ? { failure: `shipping the project code: ${uploaded.failure}` } : { uploaded: true };
}

/** The size of the file at a logical path; -1 when there is none. */
async function remoteSize(context: TransferContext, path: string, signal?: AbortSignal): Promise<number | BackendFailure> {
  const location = storageLocation(path);
  if (location === undefined) return { failure: `${path} is not a storage path the Databricks backend can write` };
  const common = { idempotent: true, ...(signal ? { signal } : {}) };
  const missing = (status: number, code: string): boolean => status === 404 || code === 'RESOURCE_DOES_NOT_EXIST' || code === 'NOT_FOUND';
  if (location.api === 'workspace') {
    const status = await context.client.request<{ object_type?: string; size?: number }>('GET', '/api/2.0/workspace/get-status', { query: { path: location.path }, ...common });
    if (!status.ok) return missing(status.error.status, status.error.errorCode) ? -1 : { failure: describeApiFailure(status.error, `checking ${path}`, context.host, context.client.configFile) };
    if (status.value.object_type !== 'FILE') return -1;
    return typeof status.value.size === 'number' ? status.value.size : -1;
  }
  if (location.api === 'files') {
    const encoded = location.path.split('/').map(encodeURIComponent).join('/');
    const head = await context.client.requestStream('HEAD', `/api/2.0/fs/files${encoded}`, common);
    if (!head.ok) return missing(head.error.status, head.error.errorCode) ? -1 : { failure: describeApiFailure(head.error, `checking ${path}`, context.host, context.client.configFile) };
    head.value.body.resume();
    const length = Number(head.value.headers['content-length']);
    return Number.isFinite(length) ? length : -1;
  }
  const status = await context.client.request<{ file_size?: number; is_dir?: boolean }>('GET', '/api/2.0/dbfs/get-status', { query: { path: location.path }, ...common });
  if (!status.ok) return missing(status.error.status, status.error.errorCode) ? -1 : { failure: describeApiFailure(status.error, `checking ${path}`, context.host, context.client.configFile) };
  return status.value.is_dir ? -1 : (status.value.file_size ?? -1);
}
