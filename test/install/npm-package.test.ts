// The server as a user installs it: `npm pack` of server/, `npm install -g` of that tarball into
// a temporary prefix on a PATH where gcc, g++, cc, c++ and make fail, then an LSP session from
// the installed bin that runs a function as an artifact and dereferences it (on WebAssembly, the
// native addon having failed to build); `npx choppa-lsp` from the tarball too.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EditorClient, tempDir } from '../support/lsp-client.js';
import { packServer, type PackedServer } from '../support/packaging.js';
import { noCompiler, type NoCompiler } from './no-compiler.js';
import { runAndDereference } from './run-and-dereference.js';

const REPO = join(import.meta.dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'server', 'package.json'), 'utf8')) as { version: string }).version;
/**
 * The packed tarball's budget: the server is JavaScript (its modules, and the same bundled for the
 * launcher, with the CLI daemon's client), a runner and queries. 450 KB packed in session 7 (call
 * identity, pyproject.toml as TOML, partial-file sweeps, retry notices, and the CHANGELOG saying
 * so), 487 KB in session 8 (Python's binding rules, projects per folder, the server's own folder
 * watch, the runner's claims and builds): the budget leaves room and still catches a source tree
 * or maps packed by mistake (a gzipped `src/` alone is about 310 KB).
 */
const TARBALL_BUDGET = 520 * 1024;

let dir: string;
let shims: NoCompiler;
let tarball: string;
let packed: PackedServer;
let prefix: string;
let installLog: string;
let installStatus: number | null;
/** The user's npm cache: the LSP sessions run with a temporary HOME, npx must still find it. */
const NPM_CACHE = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();

/** npm with the shims first on PATH; the npm cache (and registry) serve the dependencies. */
function npm(args: string[], cwd: string, extraPath: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, PATH: shims.path(...extraPath), npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', CHOPPA_PARSER: '' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = tempDir('choppa-install-');
  shims = noCompiler(dir);
  packed = packServer(dir, { ...process.env, PATH: shims.path() });
  tarball = packed.tarball;
  prefix = join(dir, 'prefix');
  const install = npm(['install', '-g', '--prefix', prefix, '--foreground-scripts', tarball], dir);
  installStatus = install.status;
  installLog = `${install.stdout}\n${install.stderr}`;
}, 300_000);

describe('npm install -g of the packed server, without a compiler', () => {
  it('packs the runner, the queries, the README, CHANGELOG and LICENSE, and no sources or maps, within budget', () => {
    const paths = packed.files;
    expect(paths).toEqual(
      expect.arrayContaining(['bin/choppa-lsp.cjs', 'dist/main.js', 'dist/cli-daemon-client.cjs', 'dist/build-id.txt', 'python/runner.py', 'queries/decorators.scm', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']),
    );
    expect(paths.filter((path) => /\.(ts|map|tsbuildinfo)$/.test(path) || path.startsWith('src/'))).toEqual([]);
    expect(packed.size).toBeLessThan(TARBALL_BUDGET);
  });

  it('installs: the native addon fails to build (the compiler shims refused it) and is left out', () => {
    expect(installStatus, installLog).toBe(0);
    // npm ran tree-sitter's install script, which tried to compile and failed on the shims. If a
    // future npm stops running install scripts, this line goes and the rest still holds.
    expect(shims.calls().length, installLog).toBeGreaterThan(0);
    const installed = join(prefix, 'lib', 'node_modules', 'choppa-lsp');
    expect(existsSync(join(installed, 'package.json'))).toBe(true);
    expect(existsSync(join(installed, 'node_modules', 'tree-sitter', 'build', 'Release', 'tree_sitter_runtime_binding.node'))).toBe(false);
    expect(statSync(join(installed, 'node_modules', 'tree-sitter-python', 'tree-sitter-python.wasm')).size).toBeGreaterThan(100_000);
  });

  it('choppa-lsp --version names the version and the WebAssembly parser', () => {
    const result = spawnSync(join(prefix, 'bin', 'choppa-lsp'), ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: shims.path(join(prefix, 'bin')), CHOPPA_PARSER: '' } });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`choppa-lsp ${VERSION}\nparser: web-tree-sitter `);
    expect(result.stdout).toContain('(WebAssembly), tree-sitter-python 0.25');
    expect(result.stdout).toMatch(/native tree-sitter not loaded: Cannot find module 'tree-sitter'/);
  });

  it('choppa-lsp run works from the installed bin, through its daemon the second time', () => {
    const root = tempDir('choppa-installed-cli-');
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, 'jobs.py'), ['from choppa import Choppa', '', 'dutch = Choppa()', '', '@dutch.remote', 'def pid():', '    import os', '    return os.getpid()', ''].join('\n'));
    const env = { ...process.env, PATH: shims.path(join(prefix, 'bin')), CHOPPA_PARSER: '', HOME: root, DATABRICKS_CONFIG_FILE: join(root, 'none.cfg'), DATABRICKS_HOST: '' };
    const run = () => spawnSync(join(prefix, 'bin', 'choppa-lsp'), ['run', 'jobs.py:pid', '--json'], { cwd: root, encoding: 'utf8', env });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    // The same warm interpreter: the daemon the first run started served the second.
    expect(JSON.parse(second.stdout).value.json).toBe(JSON.parse(first.stdout).value.json);
  }, 60_000);

  describe('an LSP session from the installed bin', () => {
    let editor: EditorClient;
    let root: string;
    let uri: string;
    const text = [
      'from choppa import Choppa',
      '',
      'dutch = Choppa(artifact_dir="/Volumes/main/default/runs")',
      '',
      '@dutch.artifact',
      'def squares(n=1000):',
      '    return [i * i for i in range(n)]',
      '',
    ].join('\n');

    beforeAll(async () => {
      root = tempDir('choppa-installed-');
      writeFileSync(join(root, 'jobs.py'), text);
      editor = await EditorClient.start({
        root,
        command: [join(prefix, 'bin', 'choppa-lsp'), '--stdio'],
        env: { PATH: shims.path(join(prefix, 'bin')), CHOPPA_PARSER: '' },
      });
      uri = await editor.open(join(root, 'jobs.py'), text);
      await editor.waitForDiagnostics(uri);
    }, 60_000);
    afterAll(async () => {
      await editor?.stop();
    });

    it('logs the WebAssembly parser at start', async () => {
      // Log lines go out in batches (at most 50 ms late).
      await expect.poll(() => editor.logs.find((line) => line.startsWith(`choppa-lsp ${VERSION}, parser: web-tree-sitter`))).toBeDefined();
    });

    it('runs a function as an artifact and dereferences it, verified', async () => {
      const localPath = await runAndDereference(editor, uri, 'squares');
      expect(localPath.startsWith(join(root, '.choppa', 'artifacts'))).toBe(true);
    }, 60_000);
  });
});

describe('npx choppa-lsp from the tarball', () => {
  it('starts without a compiler and answers initialize over stdio', async () => {
    const root = tempDir('choppa-npx-');
    const editor = await EditorClient.start({
      root,
      command: ['npx', '--yes', `--package=${tarball}`, 'choppa-lsp', '--stdio'],
      env: { PATH: shims.path(), CHOPPA_PARSER: '', npm_config_update_notifier: 'false', npm_config_cache: NPM_CACHE },
    });
    try {
      const file = join(root, 'a.py');
      const source = 'from choppa import Choppa\ndutch = Choppa()\n\n@dutch.remote\ndef add(a, b):\n    return a + b\n';
      const opened = await editor.open(file, source);
      const lenses = await editor.request<Array<{ command?: { title: string } }>>('textDocument/codeLens', { textDocument: { uri: opened } });
      expect(lenses.map((lens) => lens.command?.title)).toContain('Run add remotely');
    } finally {
      await editor.stop();
    }
  }, 180_000);
});

describe('a native addon that is there but does not load (a prebuild for a newer libstdc++)', () => {
  const installed = (): string => join(prefix, 'lib', 'node_modules', 'choppa-lsp');
  const version = (env: NodeJS.ProcessEnv): SpawnSyncReturns<string> =>
    spawnSync(join(prefix, 'bin', 'choppa-lsp'), ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: shims.path(join(prefix, 'bin')), ...env } });

  beforeAll(() => {
    // What Debian 12 and Ubuntu 22.04 get from tree-sitter 0.25's linux-x64 prebuild.
    const fake = join(installed(), 'node_modules', 'tree-sitter');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: 'tree-sitter', version: '0.25.0', main: 'index.js' }));
    writeFileSync(join(fake, 'index.js'), "throw new Error(\"/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.31' not found (required by tree_sitter_runtime_binding.node)\");\n");
  });
  afterAll(() => {
    rmSync(join(installed(), 'node_modules', 'tree-sitter'), { recursive: true, force: true });
  });

  it('falls back to WebAssembly and says why', () => {
    const result = version({ CHOPPA_PARSER: '' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('(WebAssembly)');
    expect(result.stdout).toContain("native tree-sitter not loaded: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.31' not found");
  });

  it('refuses to start when CHOPPA_PARSER=native asks for it, with the loader\'s reason', () => {
    const result = version({ CHOPPA_PARSER: 'native' });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('CHOPPA_PARSER=native, but the native tree-sitter binding does not load');
    expect(result.stderr).toContain('GLIBCXX_3.4.31');
  });
});
