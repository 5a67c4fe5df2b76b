// The terminal CLI, spawned as a user runs it: list, run (value, ref, error exit code), artifact,
// and deref of a function's artifact and of a ref path, all sharing the project's `.choppa/`.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';

const source = [
  'import json',
  'from choppa import Choppa',
  '',
  'dutch = Choppa(result_size_max=1024, artifact_dir="dbfs:/tmp/cli")',
  '',
  '@dutch.remote',
  'def add(a, b):',
  '    print("adding")',
  '    return a + b',
  '',
  '@dutch.remote',
  'def big():',
  '    return "x" * 5000',
  '',
  '@dutch.artifact',
  'def table(rows=3):',
  '    return list(range(rows))',
  '',
  '@dutch.remote',
  'def chatty(n):',
  '    for i in range(n):',
  '        print(f"line {i:06d}")',
  '    return n',
  '',
  '@dutch.remote',
  'def boom():',
  '    return json.dumps(1)',
  '',
  '@dutch.remote',
  'async def pull():',
  '    return 1',
  '',
].join('\n');

let project: string;
let file: string;

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return cliWith({}, ...args);
}

/** Runs the CLI with extra environment, nothing inherited from a real ~/.databrickscfg. */
function cliWith(env: NodeJS.ProcessEnv, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const result = spawnSync(process.execPath, [SERVER_BIN, ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'), ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  project = tempDir();
  mkdirSync(join(project, '.git'));
  mkdirSync(join(project, 'src'));
  file = join(project, 'src', 'jobs.py');
  writeFileSync(file, source);
});

describe('choppa-lsp CLI', () => {
  it('lists instances, functions with their kinds, and scope problems', () => {
    const { code, stdout } = cli('list', file);
    expect(code).toBe(0);
    expect(stdout).toContain('instance  dutch  line 4  cluster_id=-  artifact_dir=dbfs:/tmp/cli  result_size_max=1024');
    expect(stdout).toMatch(/remote\s+add\(a, b\)\s+line 7/);
    expect(stdout).toMatch(/artifact\s+table\(rows\)\s+line 16/);
    expect(stdout).toMatch(/warning\s+27:12\s+`json` is a module-level import/);
    const json = JSON.parse(cli('list', file, '--json').stdout) as { functions: Array<{ name: string; kind: string }> };
    expect(json.functions.map((fn) => `${fn.kind}:${fn.name}`)).toEqual(['remote:add', 'remote:big', 'artifact:table', 'remote:chatty', 'remote:boom']);
  });

  it('lists signatures as Python writes them: *args, **kwargs and a bare * before keyword-only parameters', () => {
    const signatures = join(project, 'src', 'signatures.py');
    writeFileSync(
      signatures,
      ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def kw(a, *rest, b, **extra):', '    return a', '@dutch.remote', 'def only(a, *, b, c=2):', '    return a', '@dutch.remote', 'def spread(*args, **kwargs):', '    return args', ''].join('\n'),
    );
    const { code, stdout } = cli('list', signatures);
    expect(code).toBe(0);
    expect(stdout).toMatch(/remote\s+kw\(a, \*rest, b, \*\*extra\)\s+line 4/);
    expect(stdout).toMatch(/remote\s+only\(a, \*, b, c\)\s+line 7/);
    expect(stdout).toMatch(/remote\s+spread\(\*args, \*\*kwargs\)\s+line 10/);
  });

  it('streams the whole output of a run to stderr, in order, while the state folder keeps a bounded tail', () => {
    const { code, stdout, stderr } = cli('run', `${file}:chatty`, '--args', '60000');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^chatty\(60000\) → 60000 · [\d.]+ m?s · local python3\.\d+\n$/);
    const printed = stderr.split('\n').filter((line) => line.startsWith('line '));
    expect(printed).toHaveLength(60000);
    expect(printed.every((line, i) => line === `line ${String(i).padStart(6, '0')}`)).toBe(true);
    // No progress line echoes the output, and the tail is not printed a second time.
    expect(stderr).not.toMatch(/… line \d/);
    expect(stderr).not.toContain('earlier characters omitted');
    const journal = readFileSync(join(project, '.choppa', 'journal.jsonl'), 'utf8');
    const record = journal.trim().split('\n').map((line) => JSON.parse(line) as { record?: { function: string; stdout: string; logPath?: string } }).filter((line) => line.record?.function === 'chatty').pop()!.record!;
    expect(record.stdout.length).toBeLessThan(17 * 1024);
    expect(record.stdout).toMatch(/^\[\.\.\. \d+ earlier characters omitted; the run log has the whole output \.\.\.\]\n/);
    expect(record.stdout.endsWith('line 059999\n')).toBe(true);
    expect(readFileSync(record.logPath!, 'utf8')).toContain('line 000000\nline 000001\n');
  });

  it('runs a function with --args and prints the result, output going to stderr', () => {
    const { code, stdout, stderr } = cli('run', `${file}:add`, '--args', '1, b=2');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^add\(1, b=2\) → 3 · \d+ ms · local python3\.\d+\n$/);
    expect(stderr).toContain('adding');
    const json = JSON.parse(cli('run', `${file}:add`, '--args', '"a", "b"', '--json').stdout) as { value: { json: string } };
    expect(json.value.json).toBe('ab');
  });

  it('exits non-zero with the document line when the remote side raises', () => {
    const { code, stdout } = cli('run', `${file}:boom`);
    expect(code).toBe(1);
    expect(stdout).toContain("error: NameError: name 'json' is not defined");
    expect(stdout).toContain('jobs.py:27');
  });

  it('refuses to run or submit an async def with the reason list gives, not "no such function"', () => {
    const listed = cli('list', file).stdout;
    const reason = /error\s+30:11\s+(`pull` is an `async def`: .*)\n/.exec(listed)?.[1];
    expect(reason).toContain('does not support coroutines');
    for (const command of ['run', 'artifact', 'submit']) {
      const { code, stdout, stderr } = cli(command, `${file}:pull`);
      expect(code).toBe(1);
      expect(stdout).toBe(`error: ChoppaError: ${reason} (src/jobs.py:30)\n`);
      expect(stderr).not.toContain('decorated by a Choppa instance');
    }
    const bundle = cli('bundle', `${file}:pull`);
    expect(bundle.code).toBe(1);
    expect(bundle.stderr).toBe(`${reason}\n`);
    // A name nothing decorates is still said to be missing.
    expect(cli('run', `${file}:absent`).stdout).toContain('There is no function `absent` decorated by a Choppa instance');
  });

  it('prints its version and which parser runs', () => {
    const { code, stdout } = cli('--version');
    expect(code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'server', 'package.json'), 'utf8')) as { version: string };
    const parser = process.env['CHOPPA_PARSER'] === 'wasm' ? 'web-tree-sitter 0\\.\\d+\\.\\d+ \\(WebAssembly\\)' : 'tree-sitter 0\\.25\\.\\d+ \\(native addon\\)';
    expect(stdout).toMatch(new RegExp(`^choppa-lsp ${pkg.version.replace(/\\./g, '\\.')}\nparser: ${parser}, tree-sitter-python 0\\.25\\.\\d+\n$`));
  });

  it('runs on WebAssembly when asked to (CHOPPA_PARSER=wasm), and lists the same functions', () => {
    const native = cliWith({ CHOPPA_PARSER: 'native' }, 'list', file);
    const wasm = cliWith({ CHOPPA_PARSER: 'wasm' }, 'list', file);
    expect(wasm.code).toBe(0);
    expect(wasm.stdout).toContain('add');
    expect(wasm.stdout).toBe(native.stdout);
    expect(cliWith({ CHOPPA_PARSER: 'wasm' }, '--version').stdout).toContain('(WebAssembly)');
  });

  it('exits 2 on a usage error', () => {
    expect(cli('run', file).code).toBe(2);
    expect(cli('frobnicate').code).toBe(2);
    expect(cli('run', `${file}:add`, '--args', '1, (').code).toBe(2);
    // A file that is not there is said in one line, not buried under the usage.
    const missing = cli('run', 'nowhere.py:add');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^choppa-lsp: cannot read .*nowhere\.py: no such file\n$/);
  });

  it('stores refs and artifacts, and dereferences both ways into the project .choppa/', () => {
    const ref = JSON.parse(cli('run', `${file}:big`, '--json').stdout) as { ref: { path: string; sha256: string } };
    expect(ref.ref.path).toMatch(/^dbfs:\/tmp\/cli\/big-.+\.pkl$/);
    const artifact = cli('artifact', `${file}:table`, '--args', '4');
    expect(artifact.code).toBe(0);
    expect(artifact.stdout).toContain('ArtifactRef');

    const byFunction = cli('deref', `${file}:table`, '--json');
    expect(byFunction.code).toBe(0);
    const local = JSON.parse(byFunction.stdout) as { localPath: string; previewPath: string; sha256: string };
    expect(local.localPath.startsWith(join(project, '.choppa', 'artifacts'))).toBe(true);
    expect(createHash('sha256').update(readFileSync(local.localPath)).digest('hex')).toBe(local.sha256);
    expect(readFileSync(local.previewPath, 'utf8')).toContain('[0, 1, 2, 3]');

    const byPath = cli('deref', ref.ref.path, '--json');
    expect(byPath.code).toBe(0);
    expect((JSON.parse(byPath.stdout) as { sha256: string }).sha256).toBe(ref.ref.sha256);
    expect(statSync(join(project, '.choppa', 'journal.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('config prints what was resolved and from where, secrets redacted, like databricks auth describe', () => {
    const env = { DATABRICKS_HOST: 'https://adb-123.4.azuredatabricks.net/', DATABRICKS_TOKEN: 'dapi-secret-value' };
    const { code, stdout } = cliWith(env, 'config', '--cluster-id', '0123-abc');
    expect(code).toBe(0);
    expect(stdout).toContain('host: https://adb-123.4.azuredatabricks.net (from DATABRICKS_HOST environment variable)');
    expect(stdout).toContain('token: *** (from DATABRICKS_TOKEN environment variable)');
    expect(stdout).toContain('cluster_id: 0123-abc');
    expect(stdout).not.toContain('dapi-secret-value');
    const json = JSON.parse(cliWith(env, 'config', '--json').stdout) as { ok: boolean; authType: string; host: string };
    expect(json).toMatchObject({ ok: true, authType: 'pat', host: 'https://adb-123.4.azuredatabricks.net' });
    expect(JSON.stringify(json)).not.toContain('dapi-secret-value');
  });

  it('config exits 1 with the SDK error when a named profile does not exist', () => {
    const cfg = join(project, 'profiles.cfg');
    writeFileSync(cfg, '[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = dapi-file-secret\n');
    const { code, stderr } = cliWith({ DATABRICKS_CONFIG_FILE: cfg }, 'config', '--profile', 'missing');
    expect(code).toBe(1);
    expect(stderr).toContain('has no missing profile configured');
    expect(stderr).not.toContain('dapi-file-secret');
  });

  it('config says the file lacks the profile asked for and which it has, not that it has no DEFAULT', () => {
    const home = join(project, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.databrickscfg'), '[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = dapi-file-secret\n\n[dev]\nhost = https://d.cloud.databricks.com\n');
    const { code, stderr } = cliWith({ HOME: home, DATABRICKS_CONFIG_FILE: undefined, DATABRICKS_CONFIG_PROFILE: 'nosuch' }, 'config');
    expect(code).toBe(1);
    expect(stderr).toContain(`resolve: ${join(home, '.databrickscfg')} has no nosuch profile configured`);
    expect(stderr).toContain(`\nConfig file: ~/.databrickscfg (${join(home, '.databrickscfg')}), no nosuch profile (its profiles: DEFAULT, dev)\n`);
    expect(stderr).not.toContain('no DEFAULT profile');
  });

  it('submits a job, lists it, and waits for it with the outcome as exit code', () => {
    const submitted = cli('submit', `${file}:table`, '--args', '6', '--json');
    expect(submitted.code).toBe(0);
    const handle = JSON.parse(submitted.stdout) as { status: string; id: string; runId: string };
    expect(handle.status).toBe('submitted');
    const listed = cli('runs');
    expect(listed.stdout).toMatch(new RegExp(`^${handle.id}  table\\(6\\)  (PENDING|RUNNING|SUCCEEDED)`, 'm'));
    const waited = cli('wait', handle.id);
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(/^table → ArtifactRef .* \(list\) at dbfs:\/tmp\/cli\/table-/);
    expect(cli('runs').stdout).toContain('SUCCEEDED');
    const unknown = cli('wait', 'no-such-run');
    expect(unknown.code).toBe(1);
  });

  it("keeps a finished job's result when the process that saw it end was killed mid-write", () => {
    const handle = JSON.parse(cli('submit', `${file}:table`, '--args', '8', '--json').stdout) as { id: string };
    expect(cli('wait', handle.id).code).toBe(0);
    // The last line the journal got is torn, as when the writer is killed in the middle of it.
    const journal = join(project, '.choppa', 'journal.jsonl');
    const text = readFileSync(journal, 'utf8');
    const last = text.trimEnd().lastIndexOf('\n') + 1;
    writeFileSync(journal, text.slice(0, last + Math.floor((text.length - last) / 2)));
    const again = cli('wait', handle.id);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^table → ArtifactRef .* \(list\) at dbfs:\/tmp\/cli\/table-/);
    const deref = cli('deref', `${file}:table`, '--json');
    expect(deref.code).toBe(0);
    expect(JSON.parse(deref.stdout)).toMatchObject({ runId: handle.id, call: 'table(8)' });
  });

  it('lists where submitted runs stand now, asking where they run, not what the last look saw', async () => {
    // Not `add`: a submitted run's result is an artifact, and a later test needs `add` to have none.
    const submitted = JSON.parse(cli('submit', `${file}:chatty`, '--args', '1', '--json').stdout) as { id: string };
    let state = '';
    for (let attempt = 0; attempt < 40 && state !== 'SUCCEEDED'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = new RegExp(`^${submitted.id}  chatty\\(1\\)  ([A-Z]+)`, 'm').exec(cli('runs').stdout)?.[1] ?? '';
    }
    expect(state).toBe('SUCCEEDED');
  });

  it('leaves out a stored result that lost a field, saying so, rather than crash or show the one before it', () => {
    expect(cli('artifact', `${file}:table`, '--args', '2').code).toBe(0);
    expect(cli('artifact', `${file}:table`, '--args', '2').code).toBe(0);
    const journal = join(project, '.choppa', 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines.pop()!) as { fn: string; record: { runId: string; ref: { sha256?: string } } };
    expect(last.fn).toBe('src/jobs.py::table');
    delete last.record.ref.sha256;
    writeFileSync(journal, [...lines, JSON.stringify(last)].join('\n') + '\n');
    // Another call's artifact (an earlier test's `table(4)`) may be what is left to dereference.
    const { stdout, stderr } = cli('deref', `${file}:table`);
    expect(stderr).not.toMatch(/TypeError|    at /);
    expect(stderr).toContain(`holds a damaged result of src/jobs.py::table (run ${last.record.runId})`);
    expect(stdout).not.toContain(last.record.runId);
  });

  it('leaves out a submitted run that lost a field, saying so, rather than print a JavaScript error', () => {
    const handle = JSON.parse(cli('submit', `${file}:table`, '--args', '1', '--json').stdout) as { id: string };
    expect(cli('wait', handle.id).code).toBe(0);
    const journal = join(project, '.choppa', 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => {
        // An earlier test left a torn line behind.
        if (!line.endsWith('}')) return line;
        const parsed = JSON.parse(line) as { k: string; record: { id?: string; target?: unknown; state?: string } };
        if (parsed.k !== 'submission' || parsed.record.id !== handle.id) return line;
        delete parsed.record.target;
        parsed.record.state = 'running';
        return JSON.stringify(parsed);
      });
    writeFileSync(journal, `${lines.join('\n')}\n`);
    const { code, stdout, stderr } = cli('runs');
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/Cannot read properties|TypeError/);
    expect(stderr).toContain(`holds a damaged submitted run (${handle.id}); it was left out`);
    expect(stdout).not.toContain(handle.id);
  });

  it('says which call an artifact dereferenced by name is from, and that it is stale once the code changed', () => {
    const reports = join(project, 'src', 'reports.py');
    const body = (factor: number) =>
      ['from choppa import Choppa', '', 'dutch = Choppa(artifact_dir="dbfs:/tmp/cli")', '', '@dutch.artifact', 'def totals(n):', `    return [i * ${factor} for i in range(n)]`, ''].join('\n');
    writeFileSync(reports, body(2));
    expect(cli('artifact', `${reports}:totals`, '--args', '3').code).toBe(0);
    expect(cli('artifact', `${reports}:totals`, '--args', '5').code).toBe(0);
    const current = cli('deref', `${reports}:totals`, '--json');
    expect(current.code).toBe(0);
    expect(current.stderr).toMatch(/the artifact of totals\(5\), run \S+ on local python\S* at /);
    expect(current.stderr).not.toContain('stale');
    expect(JSON.parse(current.stdout)).toMatchObject({ call: 'totals(5)' });
    expect(JSON.parse(current.stdout)).not.toHaveProperty('stale');

    writeFileSync(reports, body(10));
    const stale = cli('deref', `${reports}:totals`);
    expect(stale.code).toBe(0);
    expect(stale.stderr).toContain("warning: this artifact is stale (the code of totals changed); `choppa-lsp artifact");
    expect(stale.stderr).toContain(":totals --args '5'` makes a current one");
    expect(stale.stdout).toContain('stale: the code of totals changed');
    expect(JSON.parse(cli('deref', `${reports}:totals`, '--json').stdout)).toMatchObject({ call: 'totals(5)', stale: 'the code of totals changed' });
  });

  it('says how to get a fresh local Python when context restart has no workspace to restart a context in', () => {
    const { code, stderr } = cli('context', 'restart');
    expect(code).toBe(1);
    expect(stderr).toContain('no Databricks workspace is configured (see `choppa-lsp config`); runs use the local Python, and `choppa-lsp daemon stop` gives the next run a fresh one');
  });

  it('refuses to dereference a function that has no artifact, saying what to run', () => {
    const { code, stderr } = cli('deref', `${file}:add`);
    expect(code).toBe(1);
    expect(stderr).toContain('choppa-lsp artifact');
  });
});
