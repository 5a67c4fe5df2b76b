// A workspace behind a corporate https proxy: with HTTPS_PROXY set, the CLI and the server reach
// the workspace through it (CONNECT, TLS end to end), NO_PROXY hosts go direct, and a company CA
// from NODE_EXTRA_CA_CERTS is trusted. The workspace is the emulator behind a TLS front with a
// certificate made for the test; the proxy is a real CONNECT proxy on loopback.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, SERVER_BIN, tempDir } from '../support/lsp-client.js';

let emulator: Emulator;
let front: TlsServer;
let proxy: Server;
let workspaceUrl: string;
let proxyUrl: string;
let caFile: string;
let project: string;
/** The `host:port` of each CONNECT the proxy was asked for. */
const tunnels: string[] = [];
const sockets = new Set<Socket>();

function listen(server: Server | TlsServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'RUNNING' }] });
  const dir = tempDir();
  caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  // TLS in front of the emulator: what a client sees is an https:// workspace.
  const emulatorPort = Number(new URL(emulator.url).port);
  front = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (socket) => {
    sockets.add(socket);
    const upstream = connect(emulatorPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const close = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  workspaceUrl = `https://127.0.0.1:${await listen(front)}`;
  proxy = createHttpServer((_req, res) => {
    res.writeHead(405).end('CONNECT only');
  });
  proxy.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
  project = tempDir();
  mkdirSync(join(project, '.git'));
  writeFileSync(join(project, 'jobs.py'), ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy.close(resolve));
  await new Promise((resolve) => front.close(resolve));
  await emulator.stop();
});

/** The environment of a user behind the proxy; `extra` adds or overrides. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(DATABRICKS_|HTTPS?_PROXY$|NO_PROXY$)/i.test(key)));
  return {
    ...clean,
    HOME: project,
    DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'),
    DATABRICKS_HOST: workspaceUrl,
    DATABRICKS_TOKEN: emulator.token,
    DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID,
    NODE_EXTRA_CA_CERTS: caFile,
    ...extra,
  };
}

async function cliRun(args: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, [SERVER_BIN, 'run', 'jobs.py:add', '--args', args, '--json'], { cwd: project, encoding: 'utf8', env });
  return (JSON.parse(stdout) as { value?: { json?: unknown } }).value?.json;
}

describe('a workspace behind an https proxy', () => {
  it('is reached by the CLI through HTTPS_PROXY, and directly for a NO_PROXY host or without a proxy', async () => {
    const host = new URL(workspaceUrl).host;
    expect(await cliRun('1, 2', userEnv({ HTTPS_PROXY: proxyUrl }))).toBe(3);
    expect(tunnels.filter((tunnel) => tunnel === host).length).toBeGreaterThan(0);
    expect(tunnels.every((tunnel) => tunnel === host)).toBe(true);
    const before = tunnels.length;
    expect(await cliRun('2, 3', userEnv({ HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }))).toBe(5);
    // node's own https, trusting the company CA from NODE_EXTRA_CA_CERTS.
    expect(await cliRun('3, 4', userEnv())).toBe(7);
    expect(tunnels.length).toBe(before);
  }, 60_000);

  it('is reached by the language server through HTTPS_PROXY', async () => {
    const before = tunnels.length;
    const root = tempDir();
    writeFileSync(join(root, 'jobs.py'), readFileSync(join(project, 'jobs.py'), 'utf8'));
    const editor = await EditorClient.start({ root, env: userEnv({ HTTPS_PROXY: proxyUrl }) });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), readFileSync(join(root, 'jobs.py'), 'utf8'));
      const result = await editor.executeCommand<{ status: string; value?: { json?: unknown } }>('choppa.run', { uri, function: 'add', args: '20, 22' });
      expect(result).toMatchObject({ status: 'ok', value: { json: 42 } });
      expect(tunnels.length).toBeGreaterThan(before);
    } finally {
      await editor.stop();
    }
  }, 60_000);
});
