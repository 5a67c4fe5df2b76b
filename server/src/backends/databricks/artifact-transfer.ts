// Reads artifacts where the runner wrote them, through the API that owns each storage root
// (databricks-api.md §4): `/Workspace/...` by workspace export with `direct_download=true`,
// `/Volumes/...` by the Files API (resuming with `Range` after a dropped connection), `dbfs:/...`
// by DBFS `read` in 1 MB chunks. Downloads stream to disk with bounded memory, hashing as they go.
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes } from '../../engine/format.js';
import type { ArtifactRef, BackendFailure, FetchOptions, ProgressReport } from '../backend.js';
import { mapLogicalPath, sidecarPath } from '../fs-paths.js';
import { partialPath, removeAbandonedPartials } from '../partial-files.js';
import { artifactRefFrom } from '../runner-protocol.js';
import type { DatabricksApiError } from './api-error.js';
import { describeApiFailure } from './failure-messages.js';
import type { DatabricksHttpClient, StreamResponse } from './http-client.js';

/** Where a logical path lives and which API reads it. */
export type StorageLocation =
  /** Workspace API path: the cluster path without its `/Workspace` prefix. */
  | { api: 'workspace'; path: string }
  /** Files API path: `/Volumes/<catalog>/<schema>/<volume>/...`. */
  | { api: 'files'; path: string }
  /** DBFS API path: `dbfs:/x` as `/x`. */
  | { api: 'dbfs'; path: string };

/** DBFS `read` answers at most 1 MB per call (§4.3). */
const DBFS_CHUNK_BYTES = 1024 * 1024;
/** A sidecar is a few hundred bytes; anything this large is not one. */
const MAX_SIDECAR_BYTES = 1024 * 1024;
/** Consecutive broken transfers without a byte of progress before giving up. */
const MAX_STALLED_ATTEMPTS = 3;
const PROGRESS_STEP_PERCENT = 5;

/**
 * Maps a logical artifact path to its API, with the same rules as `mapLogicalPath` (so `..`,
 * relative paths and other roots are refused: undefined).
 */
export function storageLocation(logical: string): StorageLocation | undefined {
  const mapped = mapLogicalPath(undefined, logical);
  if (mapped === undefined) return undefined;
  if (mapped.startsWith('/Workspace/')) return { api: 'workspace', path: mapped.slice('/Workspace'.length) };
  if (mapped.startsWith('/Volumes/')) return { api: 'files', path: mapped };
  if (mapped.startsWith('/dbfs/')) return { api: 'dbfs', path: mapped.slice('/dbfs'.length) };
  return undefined;
}

/** What artifact reads need from the backend. */
export interface TransferContext {
  client: DatabricksHttpClient;
  host: string;
  logger?: (message: string) => void;
}

/** Reads and validates the `.json` sidecar beside an artifact, never touching the pickle. */
export async function readArtifactMetadata(
  context: TransferContext,
  path: string,
  options: FetchOptions = {},
): Promise<ArtifactRef | BackendFailure> {
  const location = storageLocation(sidecarPath(path));
  if (location === undefined || storageLocation(path) === undefined) return refusedPath(path);
  const read = await readSmallFile(context, location, options.signal);
  if ('failure' in read) return { failure: `no metadata for artifact ${path}: ${read.failure}` };
  let raw: unknown;
  try {
    raw = JSON.parse(read.text);
  } catch {
    return { failure: `the metadata of artifact ${path} is not JSON` };
  }
  return artifactRefFrom(raw) ?? { failure: `the metadata of artifact ${path} is incomplete` };
}

/**
 * Streams an artifact's bytes into `destination` (through a partial file beside it, renamed at
 * the end, and removed when the download fails or is cancelled; partial files killed processes
 * left in that folder are removed first), returning the size and sha256 of what was written.
 * Memory stays bounded whatever the size: bodies are piped with backpressure and DBFS is read
 * one chunk at a time.
 */
export async function fetchArtifact(
  context: TransferContext,
  path: string,
  destination: string,
  options: FetchOptions = {},
): Promise<{ size: number; sha256: string } | BackendFailure> {
  const location = storageLocation(path);
  if (location === undefined) return refusedPath(path);
  const partial = partialPath(destination);
  let sink: DownloadSink | undefined;
  try {
    await mkdir(dirname(destination), { recursive: true });
    await removeAbandonedPartials(dirname(destination));
    sink = new DownloadSink(await open(partial, 'w', 0o600), (report) => options.onProgress?.(report), path);
    const result =
      location.api === 'workspace'
        ? await downloadWorkspaceFile(context, location.path, sink, options.signal)
        : location.api === 'files'
          ? await downloadVolumeFile(context, location.path, sink, options.signal)
          : await downloadDbfsFile(context, location.path, sink, options.signal);
    await sink.close();
    if (result !== undefined) {
      await unlink(partial).catch(() => {});
      return { failure: options.signal?.aborted ? `fetching ${path} was cancelled` : `could not download artifact ${path}: ${result}` };
    }
    await rename(partial, destination);
    return { size: sink.size, sha256: sink.digest() };
  } catch (error) {
    await sink?.close();
    await unlink(partial).catch(() => {});
    if (options.signal?.aborted) return { failure: `fetching ${path} was cancelled` };
    return { failure: `could not write artifact ${path} to ${destination} (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
}

/** Writes at the current offset of one file, hashing exactly what reached the disk. */
class DownloadSink {
  size = 0;
  total: number | undefined;
  private hash: Hash = createHash('sha256');
  private reported = -PROGRESS_STEP_PERCENT;
  private closed = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly handle: FileHandle,
    private readonly onProgress: (report: ProgressReport) => void,
    private readonly path: string,
  ) {}

  /**
   * A fresh Writable for one transfer attempt. Destroying it (a broken body) leaves the file
   * open, so the next attempt appends where this one stopped.
   */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        const written = this.write(chunk);
        this.inFlight = written.catch(() => {});
        written.then(() => callback(), callback);
      },
    });
  }

  /**
   * Waits for a write still in flight when its Writable was destroyed, so that `size` is final
   * before the next attempt asks for the range after it.
   */
  settled(): Promise<void> {
    return this.inFlight;
  }

  async write(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, this.size + offset);
      offset += bytesWritten;
    }
    this.hash.update(chunk);
    this.size += chunk.length;
    this.progress();
  }

  /** Starts over (a server that ignored `Range`). */
  async reset(): Promise<void> {
    await this.handle.truncate(0);
    this.hash = createHash('sha256');
    this.size = 0;
    this.reported = -PROGRESS_STEP_PERCENT;
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private progress(): void {
    if (this.total === undefined || this.total <= 0) return;
    const percentage = Math.min(100, Math.floor((this.size / this.total) * 100));
    if (percentage < this.reported + PROGRESS_STEP_PERCENT && !(percentage === 100 && this.reported < 100)) return;
    this.reported = percentage;
    this.onProgress({ message: `downloading ${this.path} (${formatBytes(this.size)} of ${formatBytes(this.total)})`, percentage });
  }
}

/** `/api/2.0/workspace/export?direct_download=true`: one body, started over when it breaks. */
async function downloadWorkspaceFile(
  context: TransferContext,
  workspacePath: string,
  sink: DownloadSink,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    const response = await context.client.requestStream('GET', '/api/2.0/workspace/export', {
      query: { path: workspacePath, format: 'SOURCE', direct_download: true },
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) return workspaceFailure(context, response.error);
    sink.total = contentLength(response.value);
    const broken = await drain(response.value.body, sink, signal);
    if (broken === undefined) return sink.total !== undefined && sink.size !== sink.total ? `the download ended after ${sink.size} of ${sink.total} bytes` : undefined;
    if (signal?.aborted || attempt >= MAX_STALLED_ATTEMPTS) return `the connection broke (${broken})`;
    // Workspace export has no ranges: start over.
    context.logger?.(`workspace export of ${workspacePath} broke after ${sink.size} bytes (${broken}); starting over`);
    await sink.reset();
  }
}

/** The service's 400 for an export over 10 MB: "File size imported is (N bytes), exceeded max size (10485760 bytes)". */
const EXPORT_LIMIT_MESSAGE = /exceeded max size \(\d+ bytes\)/i;

function workspaceFailure(context: TransferContext, error: DatabricksApiError): string {
  if (
    error.errorCode === 'MAX_NOTEBOOK_SIZE_EXCEEDED' ||
    error.errorCode === 'MAX_READ_SIZE_EXCEEDED' ||
    (error.status === 400 && EXPORT_LIMIT_MESSAGE.test(error.message))
  ) {
    return `${error.message}; the Workspace export API cannot download files this large, so store large results under a /Volumes/... artifact_dir`;
  }
  return describeFailure(context, error);
}

/** `GET /api/2.0/fs/files/Volumes/...`, resuming with `Range` where a broken body stopped. */
async function downloadVolumeFile(
  context: TransferContext,
  volumePath: string,
  sink: DownloadSink,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const apiPath = `/api/2.0/fs/files${volumePath.split('/').map(encodeURIComponent).join('/')}`;
  let lastModified: string | undefined;
  let stalled = 0;
  for (;;) {
    const resuming = sink.size > 0;
    const headers: Record<string, string> = {};
    // The file must not change between ranges; the Files API honours If-Unmodified-Since.
    if (resuming && lastModified !== undefined) headers['If-Unmodified-Since'] = lastModified;
    const response = await context.client.requestStream('GET', apiPath, {
      headers,
      ...(resuming ? { range: { start: sink.size } } : {}),
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) {
      if (response.error.status === 412) return 'the file changed while it was being downloaded; dereference it again';
      if (response.error.status === 416 && sink.total !== undefined && sink.size >= sink.total) return undefined;
      return describeFailure(context, response.error);
    }
    const { status, headers: received } = response.value;
    lastModified ??= received['last-modified'];
    if (status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(received['content-range'] ?? '');
      if (range === null || Number(range[1]) !== sink.size) {
        response.value.body.destroy();
        return `the server answered a range request with ${received['content-range'] ?? 'no Content-Range'}`;
      }
      if (range[3] !== '*') sink.total = Number(range[3]);
    } else {
      // A full body: the first request, or a server that ignored the Range header.
      if (resuming) await sink.reset();
      sink.total = contentLength(response.value);
    }
    const before = sink.size;
    const broken = await drain(response.value.body, sink, signal);
    if (signal?.aborted) return 'cancelled';
    if (broken === undefined && (sink.total === undefined || sink.size >= sink.total)) {
      return sink.total !== undefined && sink.size !== sink.total ? `the download ended after ${sink.size} of ${sink.total} bytes` : undefined;
    }
    stalled = sink.size > before ? 0 : stalled + 1;
    if (stalled >= MAX_STALLED_ATTEMPTS) return `the connection keeps breaking at byte ${sink.size} (${broken ?? 'the body ended early'})`;
    context.logger?.(`download of ${volumePath} stopped at byte ${sink.size} (${broken ?? 'the body ended early'}); resuming with Range`);
  }
}

/** DBFS `read` in 1 MB chunks until `bytes_read` comes back short. */
async function downloadDbfsFile(
  context: TransferContext,
  dbfsPath: string,
  sink: DownloadSink,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const signalOption = signal ? { signal } : {};
  const status = await context.client.request<{ file_size?: number; is_dir?: boolean }>('GET', '/api/2.0/dbfs/get-status', {
    query: { path: dbfsPath },
    ...signalOption,
  });
  if (!status.ok) return describeFailure(context, status.error);
  if (status.value.is_dir === true) return `${dbfsPath} is a directory`;
  if (typeof status.value.file_size === 'number') sink.total = status.value.file_size;
  for (;;) {
    // Each call is retried by the client (a GET), so a dropped chunk is simply read again.
    const read = await context.client.request<{ bytes_read?: number; data?: string }>('GET', '/api/2.0/dbfs/read', {
      query: { path: dbfsPath, offset: sink.size, length: DBFS_CHUNK_BYTES },
      ...signalOption,
    });
    if (!read.ok) return describeFailure(context, read.error);
    const chunk = Buffer.from(read.value.data ?? '', 'base64');
    if (chunk.length > 0) await sink.write(chunk);
    if (chunk.length < DBFS_CHUNK_BYTES) break;
    if (signal?.aborted) return 'cancelled';
  }
  return sink.total !== undefined && sink.size !== sink.total ? `the download ended after ${sink.size} of ${sink.total} bytes` : undefined;
}

/** Pipes a body into the sink; the reason it broke, or undefined when it ended normally. */
async function drain(body: Readable, sink: DownloadSink, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    if (signal) await pipeline(body, sink.writable(), { signal });
    else await pipeline(body, sink.writable());
    return undefined;
  } catch (error) {
    await sink.settled();
    const { code, message } = error as NodeJS.ErrnoException;
    return code ?? message;
  }
}

/**
 * Reads a small file whole (a sidecar, a job's result file), by the API of its root; `notFound`
 * tells a missing file from a failed read.
 */
export async function readSmallFile(
  context: TransferContext,
  location: StorageLocation,
  signal: AbortSignal | undefined,
): Promise<{ text: string } | (BackendFailure & { notFound?: true })> {
  const read = await readBoundedFile(context, location, MAX_SIDECAR_BYTES, signal);
  if ('failure' in read) return read.tooLarge ? { failure: `it is larger than ${MAX_SIDECAR_BYTES} bytes, so not a sidecar` } : read;
  return { text: read.bytes.toString('utf8') };
}

/**
 * A whole file of at most `maxBytes` bytes into memory, in one request where the API allows
 * (workspace export, the Files API) and in 1 MB `read`s on DBFS. `tooLarge` when it has more:
 * reading stops there, so memory stays bounded by `maxBytes`.
 */
export async function readBoundedFile(
  context: TransferContext,
  location: StorageLocation,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<{ bytes: Buffer } | (BackendFailure & { notFound?: true; tooLarge?: true })> {
  const signalOption = signal ? { signal } : {};
  const tooLarge = { failure: `it is larger than ${maxBytes} bytes`, tooLarge: true as const };
  if (location.api === 'dbfs') {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const length = Math.min(DBFS_CHUNK_BYTES, maxBytes + 1 - size);
      const read = await context.client.request<{ data?: string }>('GET', '/api/2.0/dbfs/read', {
        query: { path: location.path, offset: size, length },
        ...signalOption,
      });
      if (!read.ok) return readFailure(context, read.error);
      const chunk = Buffer.from(read.value.data ?? '', 'base64');
      size += chunk.length;
      if (size > maxBytes) return tooLarge;
      chunks.push(chunk);
      // Fewer bytes than asked for: the end of the file (§4.3).
      if (chunk.length < length) break;
    }
    return { bytes: Buffer.concat(chunks, size) };
  }
  const response =
    location.api === 'workspace'
      ? await context.client.requestStream('GET', '/api/2.0/workspace/export', {
          query: { path: location.path, format: 'SOURCE', direct_download: true },
          ...signalOption,
        })
      : await context.client.requestStream('GET', `/api/2.0/fs/files${location.path.split('/').map(encodeURIComponent).join('/')}`, signalOption);
  if (!response.ok) return readFailure(context, response.error);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.value.body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > maxBytes) {
        response.value.body.destroy();
        return tooLarge;
      }
      chunks.push(buffer);
    }
  } catch (error) {
    return { failure: `the connection broke (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  return { bytes: Buffer.concat(chunks, size) };
}

function readFailure(context: TransferContext, error: DatabricksApiError): BackendFailure & { notFound?: true } {
  return { failure: describeFailure(context, error), ...(error.status === 404 ? { notFound: true as const } : {}) };
}

function describeFailure(context: TransferContext, error: DatabricksApiError): string {
  if (error.status === 404) return `not found (${error.message})`;
  return describeApiFailure(error, 'reading an artifact', context.host, context.client.configFile);
}

function contentLength(response: StreamResponse): number | undefined {
  const value = response.headers['content-length'];
  if (value === undefined) return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function refusedPath(path: string): BackendFailure {
  return {
    failure: `${path} is not a storage path the Databricks backend can read (expected /Workspace/..., /Volumes/... or dbfs:/... without \`..\`)`,
  };
}
