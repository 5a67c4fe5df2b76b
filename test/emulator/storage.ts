// The emulated Workspace, workspace-files, Files (`/Volumes`) and DBFS APIs, all stored as plain files
// under `fsRoot` through `mapLogicalPath`, so what Python writes in a context is what these read.
// Notebook-ness is the only thing kept beside the files (in memory), because a file cannot carry it.
import { mkdir, readFile, readdir, rm, rename, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, posix } from 'node:path';
import { mapLogicalPath } from '../../server/src/backends/fs-paths.js';
import { apiError, flag, HttpError, json, requireString, type Reply } from './http-util.js';

const MAX_NOTEBOOK_BYTES = 10 * 1024 * 1024;
const MAX_BLOCK_BYTES = 1024 * 1024;
const DEFAULT_READ_BYTES = 512 * 1024;
const MAX_PAGE_SIZE = 1000;
const NOTEBOOK_HEADER = '# Databricks notebook source';
const LANGUAGES = ['PYTHON', 'SCALA', 'SQL', 'R'] as const;
const EXTENSION_LANGUAGE: Record<string, string> = { '.py': 'PYTHON', '.sql': 'SQL', '.scala': 'SCALA', '.r': 'R' };
const LANGUAGE_FILE_TYPE: Record<string, string> = { PYTHON: 'py', SQL: 'sql', SCALA: 'scala', R: 'r' };

async function statOf(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

interface NotebookInfo {
  language: string;
}

export class Storage {
  /** Notebooks by workspace path (`/Users/a/nb`); every other workspace object is a plain file. */
  private readonly notebooks = new Map<string, NotebookInfo>();
  private readonly objectIds = new Map<string, number>();
  private readonly handles = new Map<number, { path: string; local: string; chunks: Buffer[] }>();
  private nextObjectId = 1000;
  private nextHandle = 1;

  constructor(private readonly fsRoot: string) {}

  /** The local file behind a logical path, or INVALID_PARAMETER_VALUE for one outside the roots. */
  private local(logical: string): string {
    const local = mapLogicalPath(this.fsRoot, logical);
    if (!local) throw apiError(400, 'INVALID_PARAMETER_VALUE', `Invalid path: ${logical}`);
    return local;
  }

  private objectId(path: string): number {
    let id = this.objectIds.get(path);
    if (id === undefined) {
      id = this.nextObjectId++;
      this.objectIds.set(path, id);
    }
    return id;
  }

  /** Workspace API paths have no `/Workspace` prefix (the cluster sees them under it); both forms are accepted. */
  private workspacePath(params: Record<string, unknown>): { path: string; local: string } {
    const path = requireString(params, 'path');
    if (!path.startsWith('/')) throw apiError(400, 'INVALID_PARAMETER_VALUE', `Path (${path}) is not absolute.`);
    const normalized = posix.normalize(path).replace(/\/+$/, '') || '/';
    const logical = normalized === '/Workspace' || normalized.startsWith('/Workspace/') ? normalized : '/Workspace' + (normalized === '/' ? '' : normalized);
    return { path: normalized, local: this.local(logical === '/Workspace' ? '/Workspace/' : logical) };
  }

  private objectInfo(path: string, info: Stats): Record<string, unknown> {
    const common = { path, object_id: this.objectId(path), resource_id: String(this.objectId(path)) };
    if (info.isDirectory()) return { ...common, object_type: 'DIRECTORY' };
    const notebook = this.notebooks.get(path);
    const times = { created_at: Math.floor(info.birthtimeMs), modified_at: Math.floor(info.mtimeMs) };
    if (notebook) return { ...common, object_type: 'NOTEBOOK', language: notebook.language, ...times };
    return { ...common, object_type: 'FILE', size: info.size, ...times };
  }

  private notFound(path: string): HttpError {
    return apiError(404, 'RESOURCE_DOES_NOT_EXIST', `Path (${path}) doesn't exist.`);
  }

  async workspaceImport(body: Record<string, unknown>): Promise<Reply> {
    const { path: requested, local: requestedLocal } = this.workspacePath(body);
    const format = typeof body['format'] === 'string' ? body['format'] : 'SOURCE';
    const overwrite = flag(body['overwrite'], false);
    const content = Buffer.from(typeof body['content'] === 'string' ? body['content'] : '', 'base64');
    if (content.length > MAX_NOTEBOOK_BYTES) {
      throw apiError(400, 'MAX_NOTEBOOK_SIZE_EXCEEDED', `File size imported is (${content.length} bytes), exceeded max size (${MAX_NOTEBOOK_BYTES} bytes)`);
    }
    let language = typeof body['language'] === 'string' ? body['language'] : undefined;
    if (language !== undefined && !(LANGUAGES as readonly string[]).includes(language)) {
      throw apiError(400, 'INVALID_PARAMETER_VALUE', `Invalid language: ${language}`);
    }
    let notebook: boolean;
    let path = requested;
    let local = requestedLocal;
    if (format === 'AUTO') {
      const extension = posix.extname(requested).toLowerCase();
      notebook = EXTENSION_LANGUAGE[extension] !== undefined && content.toString('utf8').startsWith(NOTEBOOK_HEADER);
      if (notebook) {
        // An AUTO import that becomes a notebook loses its extension, as on the service.
        language = EXTENSION_LANGUAGE[extension];
        path = requested.slice(0, -extension.length);
        local = requestedLocal.slice(0, -extension.length);
      }
    } else if (format === 'SOURCE') {
      if (!language) throw apiError(400, 'INVALID_PARAMETER_VALUE', 'The language field is required when importing a single file with format SOURCE.');
      notebook = true;
    } else if (format === 'JUPYTER') {
      notebook = true;
      language ??= 'PYTHON';
    } else if (format === 'RAW') {
      notebook = false;
    } else if (['HTML', 'DBC', 'R_MARKDOWN'].includes(format)) {
      throw apiError(400, 'INVALID_PARAMETER_VALUE', `The emulator does not import format ${format}.`);
    } else {
      throw apiError(400, 'INVALID_PARAMETER_VALUE', `Invalid format: ${format}`);
    }
    const parent = await statOf(dirname(local));
    if (!parent?.isDirectory()) throw apiError(404, 'RESOURCE_DOES_NOT_EXIST', `The parent folder (${posix.dirname(path)}) does not exist.`);
    const existing = await statOf(local);
    if (existing?.isDirectory()) throw apiError(400, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`);
    if (existing && !overwrite) throw apiError(400, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`);
    await writeFile(local, content);
    if (notebook) this.notebooks.set(path, { language: language ?? 'PYTHON' });
    else this.notebooks.delete(path);
    return json({});
  }

  async workspaceExport(query: URLSearchParams): Promise<Reply> {
    const { path, local } = this.workspacePath(Object.fromEntries(query));
    const info = await statOf(local);
    if (!info) throw this.notFound(path);
    if (info.isDirectory()) throw apiError(400, 'INVALID_PARAMETER_VALUE', `The emulator does not export directories (${path}); export each file.`);
    if (info.size > MAX_NOTEBOOK_BYTES) {
      // The service's words for an export over 10 MB (databricks/cli#3691): "imported", and BAD_REQUEST.
      throw apiError(400, 'BAD_REQUEST', `File size imported is (${info.size} bytes), exceeded max size (${MAX_NOTEBOOK_BYTES} bytes)`);
    }
    const content = await readFile(local);
    if (flag(query.get('direct_download'), false)) {
      return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: content };
    }
    const notebook = this.notebooks.get(path);
    const fileType = notebook ? (LANGUAGE_FILE_TYPE[notebook.language] ?? 'py') : posix.extname(path).slice(1);
    return json({ content: content.toString('base64'), file_type: fileType });
  }

  async workspaceGetStatus(query: URLSearchParams): Promise<Reply> {
    const { path, local } = this.workspacePath(Object.fromEntries(query));
    const info = await statOf(local);
    if (!info) throw this.notFound(path);
    return json(this.objectInfo(path, info));
  }

  async workspaceList(query: URLSearchParams): Promise<Reply> {
    const { path, local } = this.workspacePath(Object.fromEntries(query));
    const info = await statOf(local);
    if (!info) throw this.notFound(path);
    if (!info.isDirectory()) return json({ objects: [this.objectInfo(path, info)] });
    const objects = [];
    for (const name of (await readdir(local)).sort()) {
      const child = await statOf(`${local}/${name}`);
      if (child) objects.push(this.objectInfo(posix.join(path, name), child));
    }
    // The service leaves `objects` out for an empty folder.
    return json(objects.length ? { objects } : {});
  }

  async workspaceMkdirs(body: Record<string, unknown>): Promise<Reply> {
    const { path, local } = this.workspacePath(body);
    await this.mkdirp(local, path);
    return json({});
  }

  async workspaceDelete(body: Record<string, unknown>): Promise<Reply> {
    const { path, local } = this.workspacePath(body);
    const info = await statOf(local);
    if (!info) throw this.notFound(path);
    if (info.isDirectory() && !flag(body['recursive'], false) && (await readdir(local)).length > 0) {
      throw apiError(400, 'DIRECTORY_NOT_EMPTY', `Folder (${path}) is not empty`);
    }
    await rm(local, { recursive: true, force: true });
    for (const key of [...this.notebooks.keys()]) if (key === path || key.startsWith(path + '/')) this.notebooks.delete(key);
    return json({});
  }

  /** `POST /api/2.0/workspace-files/import-file/{path}`: raw bytes, errors as the CLI's filer sees them. */
  async importFile(rawPath: string, query: URLSearchParams, content: Buffer): Promise<Reply> {
    const { path, local } = this.workspacePath({ path: '/' + rawPath.replace(/^\/+/, '') });
    const parent = await statOf(dirname(local));
    if (!parent?.isDirectory()) throw apiError(404, 'RESOURCE_DOES_NOT_EXIST', `The parent folder (${posix.dirname(path)}) does not exist.`);
    const existing = await statOf(local);
    if (existing && !flag(query.get('overwrite'), false)) {
      if (this.notebooks.has(path)) throw apiError(400, '', `Path (${path}) already exists.`);
      throw apiError(409, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`);
    }
    if (existing?.isDirectory()) throw apiError(409, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`);
    await writeFile(local, content);
    this.notebooks.delete(path);
    return json({});
  }

  /** `GET /api/2.0/workspace-files/{path}`: the raw bytes. */
  async readWorkspaceFile(rawPath: string): Promise<Reply> {
    const { path, local } = this.workspacePath({ path: '/' + rawPath.replace(/^\/+/, '') });
    const info = await statOf(local);
    if (!info || info.isDirectory()) throw this.notFound(path);
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: await readFile(local) };
  }

  private async mkdirp(local: string, path: string): Promise<void> {
    try {
      await mkdir(local, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw apiError(400, 'RESOURCE_ALREADY_EXISTS', `Cannot create directory ${path} because a file exists on its path.`);
      }
      throw error;
    }
  }

  /** A Files API path (`/Volumes/<catalog>/<schema>/<volume>/...`) from the URL suffix. */
  private volumePath(rawPath: string): { path: string; local: string } {
    let path: string;
    try {
      path = decodeURIComponent(rawPath).replace(/^\/+/, '/');
    } catch {
      throw apiError(400, 'INVALID_PARAMETER_VALUE', `Invalid path: ${rawPath}`);
    }
    if (!/^\/Volumes\/[^/]+\/[^/]+\/[^/]+(\/|$)/.test(path)) {
      throw apiError(400, 'INVALID_PARAMETER_VALUE', `Invalid path: ${path}. Paths must look like /Volumes/<catalog>/<schema>/<volume>/<path>.`);
    }
    return { path: path.replace(/\/+$/, ''), local: this.local(path) };
  }

  async filesPut(rawPath: string, query: URLSearchParams, content: Buffer): Promise<Reply> {
    const { local } = this.volumePath(rawPath);
    const existing = await statOf(local);
    if (existing?.isDirectory()) throw apiError(409, 'ALREADY_EXISTS', 'The given path points to an existing directory.');
    if (existing && !flag(query.get('overwrite'), true)) throw apiError(409, 'ALREADY_EXISTS', 'The file being created already exists.');
    try {
      await mkdir(dirname(local), { recursive: true });
    } catch {
      throw apiError(409, 'ALREADY_EXISTS', 'A file exists on the path of the file being created.');
    }
    await writeFile(local, content);
    return { status: 204 };
  }

  async filesGet(rawPath: string, range: string | undefined, head: boolean): Promise<Reply> {
    const { local } = this.volumePath(rawPath);
    const info = await statOf(local);
    if (!info || info.isDirectory()) {
      if (head) return { status: 404 };
      throw apiError(404, 'NOT_FOUND', 'The file being accessed is not found.');
    }
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'last-modified': info.mtime.toUTCString(),
      'accept-ranges': 'bytes',
    };
    if (head) return { status: 200, headers: { ...headers, 'content-length': String(info.size) } };
    const content = await readFile(local);
    if (!range) return { status: 200, headers, body: content };
    const slice = parseRange(range, content.length);
    if (!slice) {
      return { status: 416, headers: { 'content-range': `bytes */${content.length}` }, body: { error_code: 'INVALID_PARAMETER_VALUE', message: `Invalid range: ${range}` } };
    }
    const [start, end] = slice;
    return { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${content.length}` }, body: content.subarray(start, end + 1) };
  }

  async filesDelete(rawPath: string): Promise<Reply> {
    const { local } = this.volumePath(rawPath);
    const info = await statOf(local);
    if (!info) throw apiError(404, 'NOT_FOUND', 'The file being accessed is not found.');
    if (info.isDirectory()) throw apiError(400, 'INVALID_PARAMETER_VALUE', 'The given path points to an existing directory. This API does not support operations on directories.');
    await rm(local);
    return { status: 204 };
  }

  async directoriesPut(rawPath: string): Promise<Reply> {
    const { local } = this.volumePath(rawPath);
    try {
      await mkdir(local, { recursive: true });
    } catch {
      throw apiError(409, 'ALREADY_EXISTS', 'The given path points to an existing file. This API does not support operations on files.');
    }
    return { status: 204 };
  }

  async directoriesGet(rawPath: string, query: URLSearchParams, head: boolean): Promise<Reply> {
    const { path, local } = this.volumePath(rawPath);
    const info = await statOf(local);
    if (!info?.isDirectory()) {
      if (head) return { status: 404 };
      throw apiError(404, 'NOT_FOUND', 'The directory being accessed is not found.');
    }
    if (head) return { status: 200 };
    const pageSize = Math.min(Number(query.get('page_size') ?? MAX_PAGE_SIZE) || MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const offset = Number(Buffer.from(query.get('page_token') ?? '', 'base64url').toString('utf8') || '0');
    const names = (await readdir(local)).sort();
    const contents = [];
    for (const name of names.slice(offset, offset + pageSize)) {
      const child = await statOf(`${local}/${name}`);
      if (!child) continue;
      const entryPath = `${path}/${name}`;
      contents.push(
        child.isDirectory()
          ? { path: entryPath + '/', name, is_directory: true }
          : { path: entryPath, name, is_directory: false, file_size: child.size, last_modified: Math.floor(child.mtimeMs) },
      );
    }
    const next = offset + pageSize < names.length ? Buffer.from(String(offset + pageSize)).toString('base64url') : undefined;
    return json({ contents, ...(next ? { next_page_token: next } : {}) });
  }

  async directoriesDelete(rawPath: string): Promise<Reply> {
    const { local } = this.volumePath(rawPath);
    const info = await statOf(local);
    if (!info?.isDirectory()) throw apiError(404, 'NOT_FOUND', 'The directory being accessed is not found.');
    if ((await readdir(local)).length > 0) {
      throw apiError(400, 'FAILED_PRECONDITION', 'Directory is not empty.', {
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'FILES_API_DIRECTORY_IS_NOT_EMPTY', domain: 'filesystem.databricks.com' }],
      });
    }
    await rm(local, { recursive: true });
    return { status: 204 };
  }

  /** DBFS paths are `dbfs:/x` or `/x`; both name `dbfs:/x`. */
  private dbfsPath(params: Record<string, unknown>, name = 'path'): { path: string; local: string } {
    const raw = requireString(params, name);
    const rest = raw.startsWith('dbfs:') ? raw.slice('dbfs:'.length) : raw;
    if (!rest.startsWith('/')) throw apiError(400, 'INVALID_PARAMETER_VALUE', `Path must be absolute: ${raw}`);
    const path = posix.normalize(rest).replace(/(.)\/+$/, '$1');
    return { path, local: this.local('dbfs:' + (path === '/' ? '/' : path)) };
  }

  private dbfsNotFound(path: string): HttpError {
    return apiError(404, 'RESOURCE_DOES_NOT_EXIST', `No file or directory exists on path ${path}.`);
  }

  private async dbfsWrite(path: string, local: string, content: Buffer, overwrite: boolean): Promise<void> {
    const existing = await statOf(local);
    if (existing && (existing.isDirectory() || !overwrite)) {
      throw apiError(400, 'RESOURCE_ALREADY_EXISTS', `A file or directory already exists at the input path ${path}.`);
    }
    await this.mkdirp(dirname(local), posix.dirname(path));
    await writeFile(local, content);
  }

  async dbfsPut(body: Record<string, unknown>): Promise<Reply> {
    const { path, local } = this.dbfsPath(body);
    const content = Buffer.from(typeof body['contents'] === 'string' ? body['contents'] : '', 'base64');
    if (content.length > MAX_BLOCK_BYTES) {
      throw apiError(400, 'MAX_BLOCK_SIZE_EXCEEDED', `The contents of this put request exceed the maximum size of ${MAX_BLOCK_BYTES} bytes. Use create, add-block and close instead.`);
    }
    await this.dbfsWrite(path, local, content, flag(body['overwrite'], false));
    return json({});
  }

  async dbfsCreate(body: Record<string, unknown>): Promise<Reply> {
    const { path, local } = this.dbfsPath(body);
    const existing = await statOf(local);
    if (existing && (existing.isDirectory() || !flag(body['overwrite'], false))) {
      throw apiError(400, 'RESOURCE_ALREADY_EXISTS', `A file or directory already exists at the input path ${path}.`);
    }
    const handle = this.nextHandle++;
    this.handles.set(handle, { path, local, chunks: [] });
    return json({ handle });
  }

  async dbfsAddBlock(body: Record<string, unknown>): Promise<Reply> {
    const entry = this.handles.get(Number(body['handle']));
    if (!entry) throw apiError(404, 'RESOURCE_DOES_NOT_EXIST', `The handle ${String(body['handle'])} does not exist.`);
    const data = Buffer.from(typeof body['data'] === 'string' ? body['data'] : '', 'base64');
    if (data.length > MAX_BLOCK_BYTES) throw apiError(400, 'MAX_BLOCK_SIZE_EXCEEDED', `The block size ${data.length} exceeds the maximum of ${MAX_BLOCK_BYTES} bytes.`);
    entry.chunks.push(data);
    return json({});
  }

  async dbfsClose(body: Record<string, unknown>): Promise<Reply> {
    const handle = Number(body['handle']);
    const entry = this.handles.get(handle);
    if (!entry) throw apiError(404, 'RESOURCE_DOES_NOT_EXIST', `The handle ${String(body['handle'])} does not exist.`);
    this.handles.delete(handle);
    await this.dbfsWrite(entry.path, entry.local, Buffer.concat(entry.chunks), true);
    return json({});
  }

  async dbfsRead(query: URLSearchParams): Promise<Reply> {
    const { path, local } = this.dbfsPath(Object.fromEntries(query));
    const offset = Number(query.get('offset') ?? 0);
    const length = Number(query.get('length') ?? DEFAULT_READ_BYTES);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw apiError(400, 'INVALID_PARAMETER_VALUE', 'offset and length must be non-negative integers.');
    }
    if (length > MAX_BLOCK_BYTES) throw apiError(400, 'MAX_READ_SIZE_EXCEEDED', `Cannot read more than ${MAX_BLOCK_BYTES} bytes at a time (length ${length}).`);
    const info = await statOf(local);
    if (!info) throw this.dbfsNotFound(path);
    if (info.isDirectory()) throw apiError(400, 'INVALID_PARAMETER_VALUE', `The path ${path} is a directory.`);
    const data = (await readFile(local)).subarray(offset, offset + length);
    return json({ bytes_read: data.length, data: data.toString('base64') });
  }

  private dbfsInfo(path: string, info: Stats): Record<string, unknown> {
    return { path, is_dir: info.isDirectory(), file_size: info.isDirectory() ? 0 : info.size, modification_time: Math.floor(info.mtimeMs) };
  }

  async dbfsGetStatus(query: URLSearchParams): Promise<Reply> {
    const { path, local } = this.dbfsPath(Object.fromEntries(query));
    const info = await statOf(local);
    if (!info) throw this.dbfsNotFound(path);
    return json(this.dbfsInfo(path, info));
  }

  async dbfsList(query: URLSearchParams): Promise<Reply> {
    const { path, local } = this.dbfsPath(Object.fromEntries(query));
    const info = await statOf(local);
    if (!info) throw this.dbfsNotFound(path);
    if (!info.isDirectory()) return json({ files: [this.dbfsInfo(path, info)] });
    const files = [];
    for (const name of (await readdir(local)).sort()) {
      const child = await statOf(`${local}/${name}`);
      if (child) files.push(this.dbfsInfo(posix.join(path, name), child));
    }
    return json(files.length ? { files } : {});
  }

  async dbfsMkdirs(body: Record<string, unknown>): Promise<Reply> {
    const { path, local } = this.dbfsPath(body);
    await this.mkdirp(local, path);
    return json({});
  }

  async dbfsDelete(body: Record<string, unknown>): Promise<Reply> {
    const { path, local } = this.dbfsPath(body);
    const info = await statOf(local);
    if (!info) return json({});
    if (info.isDirectory() && !flag(body['recursive'], false) && (await readdir(local)).length > 0) {
      throw apiError(400, 'IO_ERROR', `Directory ${path} is not empty. Use recursive delete or remove contents first.`);
    }
    await rm(local, { recursive: true, force: true });
    return json({});
  }

  async dbfsMove(body: Record<string, unknown>): Promise<Reply> {
    const source = this.dbfsPath(body, 'source_path');
    const destination = this.dbfsPath(body, 'destination_path');
    if (!(await statOf(source.local))) throw this.dbfsNotFound(source.path);
    if (await statOf(destination.local)) {
      throw apiError(400, 'RESOURCE_ALREADY_EXISTS', `A file or directory already exists at the input path ${destination.path}.`);
    }
    await this.mkdirp(dirname(destination.local), posix.dirname(destination.path));
    await rename(source.local, destination.local);
    return json({});
  }
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` as an inclusive [start, end], or undefined when unsatisfiable. */
export function parseRange(header: string, size: number): [number, number] | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return undefined;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return undefined;
  return [start, end];
}
