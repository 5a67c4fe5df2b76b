// A Databricks workspace emulator on loopback for the Databricks backend's tests: real paths, field
// names, state machines and error bodies (per /work/shared/reference/databricks-api.md), python3
// execution contexts and job runs, file storage under a temp root, and per-test fault injection.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clusters, type ClusterSeed, type TerminationReason } from './clusters.js';
import { Execution } from './execution.js';
import { FaultController } from './faults.js';
import { Jobs, type SubmittedRun } from './jobs.js';
import { apiError, htmlErrorPage, HttpError, parseJson, readBody, type Reply } from './http-util.js';
import { Storage } from './storage.js';
import { UnityCatalog } from './unity-catalog.js';
import { EMULATOR_USER } from './clusters.js';
import { RUNTIME_PROFILES, type RuntimeProfileName } from './runtime-profiles.js';

export { FaultController, type FaultMatch, type FaultAction } from './faults.js';
export type { ClusterSeed, ClusterState, TerminationReason } from './clusters.js';
export type { SubmittedRun } from './jobs.js';
export { RUNTIME_PROFILES, OUTPUT_CAP_MARKER, type RuntimeProfileName } from './runtime-profiles.js';

export interface EmulatorOptions {
  /** The PAT clients must send as `Authorization: Bearer <token>`; random by default. */
  token?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Where workspace, volume and DBFS files live; a fresh temp dir (removed on stop) by default. */
  fsRoot?: string;
  pythonPath?: string;
  /** Default: one RUNNING cluster `0123-456789-emulator`. */
  clusters?: ClusterSeed[];
  /** The most clusters one `clusters/list` page holds, whatever `page_size` asks (default 100). */
  clusterListPageMax?: number;
  /** How long a started cluster stays PENDING. */
  clusterStartDelayMs?: number;
  /** How long a submitted job run stays PENDING before its tasks start (default 50 ms). */
  jobStartDelayMs?: number;
  /** How long a finished job task stays TERMINATING (default 20 ms). */
  jobCleanupDelayMs?: number;
  /** Whether serverless jobs are enabled (default true); decides the error for a task without compute. */
  serverless?: boolean;
  /** Bytes of job task output kept for `runs/get-output` `logs`: the last ones, 5 MB by default, as on the service. */
  jobLogsLimitBytes?: number;
  /**
   * The Databricks Runtime line clusters run (default `16.4`, the LTS most workspaces run): its
   * command output cap, its REPL and its `spark_version` (see runtime-profiles.ts).
   */
  runtime?: RuntimeProfileName;
  /** Execution contexts a cluster keeps before it evicts the least recently used idle one (default 145). */
  maxContexts?: number;
  /** What calls on an evicted context answer (default 400 "does not exist"; the real status is undocumented). */
  evictedContextStatus?: 400 | 500;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** 0 when the connection was reset or the response dropped. */
  status: number;
  /** The request body's bytes (0 until it was read). */
  bytes: number;
  /** For `commands/execute`: the command's first line, up to 120 characters, so tests can tell commands apart. */
  command?: string;
  /** When it arrived (`Date.now()`). */
  at: number;
}

export interface EmulatorStats {
  requests: RequestRecord[];
  count(method: string, pathPattern: string | RegExp): number;
}

export interface Emulator {
  url: string;
  token: string;
  fsRoot: string;
  faults: FaultController;
  stats: EmulatorStats;
  stop(): Promise<void>;
  /** Terminates a cluster as the service would (running commands end in Error). */
  terminateCluster(clusterId: string, reason?: TerminationReason): void;
  /** Kills one context's python process (or every context's), as if the REPL died. */
  loseContext(contextId?: string): void;
  /** Evicts a context (default: the least recently used), as the service does idle ones; returns its id. */
  evictContext(contextId?: string): string;
  /** The context running the next command matching `match` dies `delayMs` after it answered, the answer held back. */
  dieAfterCommand(match: RegExp, delayMs: number): void;
  /** The execution contexts alive now. */
  contextIds(): string[];
  /** The next `count` execution contexts end `Error` instead of `Running`, as on a cluster under heavy load. */
  failContextStarts(count: number): void;
  /** Every accepted `jobs/runs/submit` body (an idempotent resend is not a new one), oldest first. */
  jobRuns(): SubmittedRun[];
}

export const DEFAULT_CLUSTER_ID = '0123-456789-emulator';

type Handler = (request: ParsedRequest) => Reply | Promise<Reply>;

interface ParsedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The path after a route's prefix, for the path-addressed Files and workspace-files APIs. */
  rest: string;
}

interface Route {
  method: string;
  /** Exact path, or a prefix ending in `/` or `{path}` style when `prefix` is set. */
  path: string;
  prefix?: boolean;
  handler: Handler;
}

function routes(clusters: Clusters, execution: Execution, storage: Storage, jobs: Jobs, catalog: UnityCatalog): Route[] {
  const body = (handler: (params: Record<string, unknown>) => Reply | Promise<Reply>): Handler => (request) => handler(parseJson(request.body));
  const query = (handler: (params: URLSearchParams) => Reply | Promise<Reply>): Handler => (request) => handler(request.query);
  const table: Route[] = [];
  for (const version of ['2.0', '2.1']) {
    table.push(
      { method: 'GET', path: `/api/${version}/clusters/get`, handler: query((q) => clusters.handleGet(q)) },
      { method: 'GET', path: `/api/${version}/clusters/list`, handler: query((q) => clusters.handleList(q)) },
      { method: 'POST', path: `/api/${version}/clusters/start`, handler: body((b) => clusters.handleStart(b)) },
      { method: 'POST', path: `/api/${version}/clusters/delete`, handler: body((b) => clusters.handleDelete(b)) },
    );
  }
  for (const version of ['2.1', '2.2']) {
    const prefix = `/api/${version}/jobs/runs`;
    table.push(
      { method: 'POST', path: `${prefix}/submit`, handler: body((b) => jobs.handleSubmit(version, b)) },
      { method: 'GET', path: `${prefix}/get`, handler: query((q) => jobs.handleGet(version, q)) },
      { method: 'GET', path: `${prefix}/get-output`, handler: query((q) => jobs.handleGetOutput(q)) },
      { method: 'POST', path: `${prefix}/cancel`, handler: body((b) => jobs.handleCancel(b)) },
      { method: 'GET', path: `${prefix}/list`, handler: query((q) => jobs.handleList(q)) },
    );
  }
  table.push(
    // Who the token belongs to (`userName` is what SINGLE_USER clusters are assigned to).
    {
      method: 'GET',
      path: '/api/2.0/preview/scim/v2/Me',
      handler: () => ({
        status: 200,
        headers: { 'x-databricks-org-id': '900800700600' },
        body: { id: '7001', userName: EMULATOR_USER, displayName: 'Emulator User', active: true, emails: [{ value: EMULATOR_USER, primary: true, type: 'work' }] },
      }),
    },
    { method: 'GET', path: '/api/2.1/unity-catalog/catalogs', handler: () => catalog.listCatalogs() },
    { method: 'GET', path: '/api/2.1/unity-catalog/schemas', handler: query((q) => catalog.listSchemas(q)) },
    { method: 'GET', path: '/api/2.1/unity-catalog/volumes', handler: query((q) => catalog.listVolumes(q)) },
    { method: 'POST', path: '/api/1.2/contexts/create', handler: body((b) => execution.handleCreateContext(b)) },
    { method: 'GET', path: '/api/1.2/contexts/status', handler: query((q) => execution.handleContextStatus(q)) },
    { method: 'POST', path: '/api/1.2/contexts/destroy', handler: body((b) => execution.handleDestroyContext(b)) },
    { method: 'POST', path: '/api/1.2/commands/execute', handler: body((b) => execution.handleExecute(b)) },
    { method: 'GET', path: '/api/1.2/commands/status', handler: query((q) => execution.handleCommandStatus(q)) },
    { method: 'POST', path: '/api/1.2/commands/cancel', handler: body((b) => execution.handleCancel(b)) },
    { method: 'POST', path: '/api/2.0/workspace/import', handler: body((b) => storage.workspaceImport(b)) },
    { method: 'GET', path: '/api/2.0/workspace/export', handler: query((q) => storage.workspaceExport(q)) },
    { method: 'GET', path: '/api/2.0/workspace/get-status', handler: query((q) => storage.workspaceGetStatus(q)) },
    { method: 'GET', path: '/api/2.0/workspace/list', handler: query((q) => storage.workspaceList(q)) },
    { method: 'POST', path: '/api/2.0/workspace/mkdirs', handler: body((b) => storage.workspaceMkdirs(b)) },
    { method: 'POST', path: '/api/2.0/workspace/delete', handler: body((b) => storage.workspaceDelete(b)) },
    { method: 'POST', path: '/api/2.0/workspace-files/import-file/', prefix: true, handler: (r) => storage.importFile(r.rest, r.query, r.body) },
    { method: 'GET', path: '/api/2.0/workspace-files/', prefix: true, handler: (r) => storage.readWorkspaceFile(r.rest) },
    { method: 'PUT', path: '/api/2.0/fs/files/', prefix: true, handler: (r) => storage.filesPut(r.rest, r.query, r.body) },
    { method: 'GET', path: '/api/2.0/fs/files/', prefix: true, handler: (r) => storage.filesGet(r.rest, rangeHeader(r), false) },
    { method: 'HEAD', path: '/api/2.0/fs/files/', prefix: true, handler: (r) => storage.filesGet(r.rest, undefined, true) },
    { method: 'DELETE', path: '/api/2.0/fs/files/', prefix: true, handler: (r) => storage.filesDelete(r.rest) },
    { method: 'PUT', path: '/api/2.0/fs/directories/', prefix: true, handler: (r) => storage.directoriesPut(r.rest) },
    { method: 'GET', path: '/api/2.0/fs/directories/', prefix: true, handler: (r) => storage.directoriesGet(r.rest, r.query, false) },
    { method: 'HEAD', path: '/api/2.0/fs/directories/', prefix: true, handler: (r) => storage.directoriesGet(r.rest, r.query, true) },
    { method: 'DELETE', path: '/api/2.0/fs/directories/', prefix: true, handler: (r) => storage.directoriesDelete(r.rest) },
    { method: 'POST', path: '/api/2.0/dbfs/put', handler: body((b) => storage.dbfsPut(b)) },
    { method: 'POST', path: '/api/2.0/dbfs/create', handler: body((b) => storage.dbfsCreate(b)) },
    { method: 'POST', path: '/api/2.0/dbfs/add-block', handler: body((b) => storage.dbfsAddBlock(b)) },
    { method: 'POST', path: '/api/2.0/dbfs/close', handler: body((b) => storage.dbfsClose(b)) },
    { method: 'GET', path: '/api/2.0/dbfs/read', handler: query((q) => storage.dbfsRead(q)) },
    { method: 'GET', path: '/api/2.0/dbfs/get-status', handler: query((q) => storage.dbfsGetStatus(q)) },
    { method: 'GET', path: '/api/2.0/dbfs/list', handler: query((q) => storage.dbfsList(q)) },
    { method: 'POST', path: '/api/2.0/dbfs/mkdirs', handler: body((b) => storage.dbfsMkdirs(b)) },
    { method: 'POST', path: '/api/2.0/dbfs/delete', handler: body((b) => storage.dbfsDelete(b)) },
    { method: 'POST', path: '/api/2.0/dbfs/move', handler: body((b) => storage.dbfsMove(b)) },
  );
  return table;
}

function rangeHeader(request: ParsedRequest): string | undefined {
  const range = request.headers['range'];
  return typeof range === 'string' ? range : undefined;
}

/** The gateway's 404 for a path no service owns; the message omits the `/api/<version>` prefix. */
function endpointNotFound(method: string, path: string): HttpError {
  return apiError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${path.replace(/^\/api\/[\d.]+/, '')}'`);
}

/** A wrong method on a known path gets the same answer as an unknown path, as on the service. */
function findRoute(table: Route[], method: string, path: string): { route: Route; rest: string } | undefined {
  for (const route of table) {
    if (route.method !== method) continue;
    if (route.prefix ? path.startsWith(route.path) || path === route.path.slice(0, -1) : path === route.path) {
      return { route, rest: route.prefix ? path.slice(route.path.length - 1) : '' };
    }
  }
  return undefined;
}

/** Checks `Authorization`, answering as the service does: 401 with no usable credential, 403 for a wrong token. */
function checkAuth(headers: IncomingMessage['headers'], token: string): Reply | undefined {
  const header = headers['authorization'];
  const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!match) {
    return {
      status: 401,
      body: { error_code: 401, message: `Credential was not sent or was of an unsupported type for this API. [ReqId: ${randomUUID()}]` },
    };
  }
  if (match[1] !== token) {
    return { status: 403, headers: { 'x-databricks-reason-phrase': 'Invalid access token.' }, body: { error_code: 403, message: 'Invalid access token.' } };
  }
  return undefined;
}

/** The body the service sends with an injected status, so clients parse a realistic error. */
function faultReply(status: number, retryAfterSeconds: number | undefined, path: string): Reply {
  const retry: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
  switch (status) {
    case 401:
      return { status, body: { error_code: 401, message: `Credential was not sent or was of an unsupported type for this API. [ReqId: ${randomUUID()}]` } };
    case 403:
      return { status, headers: { 'x-databricks-reason-phrase': 'Invalid access token.' }, body: { error_code: 403, message: 'Invalid access token.' } };
    case 429:
      return {
        status,
        headers: retry,
        body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'Your request was rejected because the workspace exceeded the rate limit. Please try again later.' },
      };
    case 503:
      return { status, headers: retry, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'The service at ' + path + ' is temporarily unavailable. Please try again later.' } };
    case 504:
      return { status, body: { error_code: 'DEADLINE_EXCEEDED', message: 'The request timed out.' } };
    default:
      return { status, headers: retry, body: { error_code: 'INTERNAL_ERROR', message: STATUS_CODES[status] ?? 'Error' } };
  }
}

/** How a faulty answer ends after `afterBytes` of its body: the socket destroyed, or left open and silent. */
interface BodyCut {
  afterBytes: number;
  then: 'close' | 'stall';
}

/** Writes a reply; with `cut`, only that many body bytes go out, then the socket closes or goes silent. */
function send(res: ServerResponse, reply: Reply, head: boolean, cut?: BodyCut): void {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload: Buffer | undefined;
  if (reply.body === undefined) {
    payload = undefined;
  } else if (Buffer.isBuffer(reply.body)) {
    payload = reply.body;
  } else if (typeof reply.body === 'string') {
    payload = Buffer.from(reply.body, 'utf8');
    headers['content-type'] ??= 'text/html; charset=utf-8';
  } else {
    payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
    headers['content-type'] ??= 'application/json';
  }
  if (!head || headers['content-length'] === undefined) headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(reply.status, headers);
  if (cut !== undefined && !head) {
    res.write(payload?.subarray(0, cut.afterBytes) ?? Buffer.alloc(0), () => {
      if (cut.then === 'close') res.socket?.destroy();
    });
    return;
  }
  res.end(head ? undefined : payload);
}

/** Starts the emulator on 127.0.0.1. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const token = options.token ?? 'dapi' + randomBytes(16).toString('hex');
  const ownsRoot = options.fsRoot === undefined;
  const fsRoot = options.fsRoot ?? (await mkdtemp(join(tmpdir(), 'choppa-emulator-')));
  for (const root of ['Workspace', 'Volumes', 'dbfs']) await mkdir(join(fsRoot, root), { recursive: true });
  // The workspace has a home folder for its one user, as a real one does.
  await mkdir(join(fsRoot, 'Workspace', 'Users', 'emulator@example.com'), { recursive: true });

  let execution: Execution | undefined;
  const runtime = RUNTIME_PROFILES[options.runtime ?? '16.4'];
  const clusters = new Clusters(
    options.clusters ?? [{ cluster_id: DEFAULT_CLUSTER_ID, cluster_name: 'emulator', state: 'RUNNING' }],
    options.clusterStartDelayMs ?? 50,
    (id) => execution?.clusterTerminated(id),
    runtime.sparkVersion,
    options.clusterListPageMax,
  );
  execution = new Execution(clusters, {
    pythonPath: options.pythonPath ?? 'python3',
    fsRoot,
    runtime,
    maxContexts: options.maxContexts ?? 145,
    evictedContextStatus: options.evictedContextStatus ?? 400,
  });
  const storage = new Storage(fsRoot);
  let url = '';
  const jobs = new Jobs(clusters, {
    pythonPath: options.pythonPath ?? 'python3',
    fsRoot,
    baseUrl: () => url,
    startDelayMs: options.jobStartDelayMs ?? 50,
    cleanupDelayMs: options.jobCleanupDelayMs ?? 20,
    serverless: options.serverless ?? true,
    ...(options.jobLogsLimitBytes !== undefined ? { logsLimitBytes: options.jobLogsLimitBytes } : {}),
  });
  const table = routes(clusters, execution, storage, jobs, new UnityCatalog(join(fsRoot, 'Volumes')));
  const faults = new FaultController();
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // go-sdk collapses `//` after the Files API prefix; the service tolerates it too.
    const path = url.pathname.replace(/\/{2,}/g, '/');
    const record: RequestRecord = { method, path, status: 0, bytes: 0, at: Date.now() };
    requests.push(record);
    const decision = faults.take(method, path);
    if (decision.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.latencyMs));
    const action = decision.action;
    if (action?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const body = await readBody(req);
    record.bytes = body.length;
    if (path === '/api/1.2/commands/execute') record.command = firstCommandLine(body);
    let reply: Reply;
    if (action?.kind === 'status') {
      reply = faultReply(action.status, action.status === 429 || action.status === 503 ? action.retryAfterSeconds : undefined, path);
    } else if (action?.kind === 'html500') {
      reply = { status: 500, body: htmlErrorPage(500, 'Server Error', path) };
    } else {
      reply = checkAuth(req.headers, token) ?? (await dispatch(method, path, url.searchParams, req.headers, body));
    }
    if (action?.kind === 'dropResponse') {
      req.socket.destroy();
      return;
    }
    record.status = reply.status;
    if (action?.kind === 'cutBody' || action?.kind === 'stallBody') {
      send(res, reply, method === 'HEAD', { afterBytes: action.afterBytes, then: action.kind === 'cutBody' ? 'close' : 'stall' });
      return;
    }
    send(res, reply, method === 'HEAD');
  }

  async function dispatch(method: string, path: string, query: URLSearchParams, headers: IncomingMessage['headers'], body: Buffer): Promise<Reply> {
    try {
      const found = findRoute(table, method, path);
      if (!found) throw endpointNotFound(method, path);
      return await found.route.handler({ method, path, query, headers, body, rest: found.rest });
    } catch (error) {
      if (error instanceof HttpError) return error.reply;
      return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) } };
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error_code: 'INTERNAL_ERROR', message: String(error) } }, false);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;

  return {
    url,
    token,
    fsRoot,
    faults,
    stats: {
      requests,
      count: (method, pattern) =>
        requests.filter(
          (request) => request.method === method.toUpperCase() && (typeof pattern === 'string' ? request.path.startsWith(pattern) : pattern.test(request.path)),
        ).length,
    },
    terminateCluster: (clusterId, reason = { code: 'USER_REQUEST', type: 'SUCCESS', parameters: { username: 'emulator@example.com' } }) =>
      clusters.terminate(clusterId, reason),
    loseContext: (contextId) => execution.loseContext(contextId),
    evictContext: (contextId) => execution.evictContext(contextId),
    failContextStarts: (count) => execution.failContextStarts(count),
    dieAfterCommand: (match, delayMs) => execution.dieAfterCommand(match, delayMs),
    contextIds: () => execution.contextIds(),
    jobRuns: () => jobs.submissions(),
    async stop() {
      clusters.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await Promise.all([closed, execution.stop(), jobs.stop()]);
      if (ownsRoot) await rm(fsRoot, { recursive: true, force: true });
    },
  };
}

function firstCommandLine(body: Buffer): string | undefined {
  try {
    const command = (JSON.parse(body.toString('utf8')) as { command?: unknown }).command;
    return typeof command === 'string' ? command.split('\n')[0]!.slice(0, 120) : undefined;
  } catch {
    return undefined;
  }
}
