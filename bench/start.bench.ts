// `npm run bench` (start): what a new process costs before it is useful, over fresh spawns
// interleaved round by round: node's bare start (the floor), `choppa-lsp --version`, the server's
// `initialize` answered (from spawn), and its first diagnostics of an opened file (from spawn, so a
// lazy load that only moves the cost to the first document shows up here). With
// CHOPPA_BENCH_BASELINE=<another build's server/bin/choppa-lsp.cjs (or dist/main.js)> the same is measured for that build in
// the same rounds, for a before/after on a shared machine.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT } from './emulator-process.js';
import { percentile } from './stats.js';

const ROUNDS = Number(process.env.CHOPPA_BENCH_ROUNDS ?? 30);
// What users start: the launcher, which runs the bundled server.
const SERVER_BIN = join(ROOT, 'server', 'bin', 'choppa-lsp.cjs');
const SOURCE = `from choppa import Choppa

dutch = Choppa()


@dutch.remote
def add(a, b):
    return a + b


total = add(1, 2)
`;

function row(name: string, samples: number[], floor?: number[]): string {
  const [p50, p90] = [50, 90].map((p) => percentile(samples, p));
  const over = floor ? `   ${(p50! - percentile(floor, 50)).toFixed(0).padStart(4)} ms over node's start` : '';
  return `  ${name.padEnd(44)} p50 ${p50!.toFixed(0).padStart(5)} ms   p90 ${p90!.toFixed(0).padStart(5)} ms${over}`;
}

function frame(message: unknown): string {
  const body = JSON.stringify(message);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function exited(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

/** Spawns the server; the times from spawn to the `initialize` answer and to the first diagnostics of a file. */
function serverStart(bin: string, root: string, env: NodeJS.ProcessEnv): Promise<{ initialize: number; diagnostics: number }> {
  const start = performance.now();
  const child = spawn(process.execPath, [bin, '--stdio'], { cwd: root, env, stdio: ['pipe', 'pipe', 'ignore'] });
  const uri = pathToFileURL(join(root, 'jobs.py')).href;
  const rootUri = pathToFileURL(root).href;
  // Sent at once, as editors do: the server reads them as soon as it listens.
  child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: 'bench' }], capabilities: {} } }));
  return new Promise((resolve, reject) => {
    let initialize = 0;
    let buffered = '';
    child.on('error', reject);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (!initialize && buffered.includes('"id":1')) {
        initialize = performance.now() - start;
        child.stdin.write(frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
        child.stdin.write(frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'python', version: 1, text: SOURCE } } }));
      }
      if (initialize && buffered.includes('textDocument/publishDiagnostics') && buffered.includes(JSON.stringify(uri).slice(1, -1))) {
        const diagnostics = performance.now() - start;
        child.kill('SIGKILL');
        resolve({ initialize, diagnostics });
      }
    });
  });
}

const home = mkdtempSync(join(tmpdir(), 'choppa-start-bench-'));
const root = join(home, 'project');
mkdirSync(join(root, '.git'), { recursive: true });
const env = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, 'cache'), DATABRICKS_CONFIG_FILE: join(home, 'none') };
const BASELINE = process.env.CHOPPA_BENCH_BASELINE;
const builds = [{ name: '', bin: SERVER_BIN }, ...(BASELINE ? [{ name: 'baseline ', bin: BASELINE }] : [])];
const bare: number[] = [];
const samples = builds.map(() => ({ version: [] as number[], initialize: [] as number[], diagnostics: [] as number[] }));
for (let round = -3; round < ROUNDS; round += 1) {
  const b = await exited(['-e', '0'], env);
  if (round >= 0) bare.push(b);
  for (const [index, build] of builds.entries()) {
    const v = await exited([build.bin, '--version'], env);
    const s = await serverStart(build.bin, root, env);
    if (round < 0) continue;
    samples[index]!.version.push(v);
    samples[index]!.initialize.push(s.initialize);
    samples[index]!.diagnostics.push(s.diagnostics);
  }
}
console.log(`Start: fresh processes, ${ROUNDS} rounds after 3 warm-up, interleaved; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
console.log(row('node -e 0', bare));
for (const [index, build] of builds.entries()) {
  const { version, initialize, diagnostics } = samples[index]!;
  console.log(row(`${build.name}choppa-lsp --version`, version, bare));
  console.log(row(`${build.name}initialize answered (target ≤ 150 ms)`, initialize, bare));
  console.log(row(`${build.name}first diagnostics of an opened file`, diagnostics, bare));
}
