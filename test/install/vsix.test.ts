// The VS Code package as a user on any OS gets it: one universal .vsix (no target platform, no
// native addon inside) within its size budget and with the marketplace metadata; the server it
// carries, unpacked outside the repository on a PATH without a compiler, parses on WebAssembly
// and runs a function and dereferences its artifact over LSP.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EditorClient, tempDir } from '../support/lsp-client.js';
import { packageVsix } from '../support/packaging.js';
import { noCompiler, type NoCompiler } from './no-compiler.js';
import { runAndDereference } from './run-and-dereference.js';

const REPO = join(import.meta.dirname, '..', '..');
/** What the .vsix may weigh: the server, its runtime packages and two WebAssembly modules. */
const VSIX_BUDGET = 3 * 1024 * 1024;

let dir: string;
let vsix: string;
let entries: Array<{ name: string; size: number }>;
let unpacked: string;
let shims: NoCompiler;

/** Runs a short python3 program over the zip (zipfile is in every python3; unzip may not be). */
function python(program: string, ...args: string[]): string {
  const result = spawnSync('python3', ['-c', program, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

beforeAll(() => {
  dir = tempDir('choppa-vsix-');
  shims = noCompiler(dir);
  vsix = packageVsix(join(dir, 'choppa-lsp.vsix'));
  entries = JSON.parse(python('import json, sys, zipfile; print(json.dumps([{"name": i.filename, "size": i.file_size} for i in zipfile.ZipFile(sys.argv[1]).infolist()]))', vsix)) as typeof entries;
  unpacked = join(dir, 'unpacked');
  python('import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', vsix, unpacked);
}, 300_000);

describe('the universal .vsix', () => {
  it('stays within its size budget', () => {
    expect(readFileSync(vsix).length).toBeLessThan(VSIX_BUDGET);
  });

  it('carries no native addon, and both WebAssembly modules', () => {
    const names = entries.map((entry) => entry.name);
    expect(names.filter((name) => name.endsWith('.node') || name.includes('/prebuilds/'))).toEqual([]);
    expect(names).toContain('extension/server/node_modules/tree-sitter-python/tree-sitter-python.wasm');
    expect(names).toContain('extension/server/node_modules/web-tree-sitter/web-tree-sitter.wasm');
    expect(names.some((name) => name.startsWith('extension/server/node_modules/tree-sitter/'))).toBe(false);
  });

  it('is for every platform and has the marketplace metadata', () => {
    const manifest = readFileSync(join(unpacked, 'extension.vsixmanifest'), 'utf8');
    expect(manifest).not.toContain('TargetPlatform');
    expect(manifest).toMatch(/<Icon>extension\/images\/icon\.png<\/Icon>/);
    expect(manifest).toMatch(/<License>extension\/LICENSE(\.txt)?<\/License>/);
    expect(manifest).toContain('Microsoft.VisualStudio.Services.Links.Source');
    expect(manifest).toMatch(/<Categories>Programming Languages,Data Science<\/Categories>/);
    const png = readFileSync(join(unpacked, 'extension', 'images', 'icon.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([128, 128]);
  });

  it('has the one version of the server, the extension and the changelog', () => {
    const extension = JSON.parse(readFileSync(join(unpacked, 'extension', 'package.json'), 'utf8')) as { version: string };
    const server = JSON.parse(readFileSync(join(unpacked, 'extension', 'server', 'package.json'), 'utf8')) as { version: string };
    expect(server.version).toBe(extension.version);
    expect(readFileSync(join(REPO, 'CHANGELOG.md'), 'utf8')).toContain(`## ${extension.version}`);
  });
});

describe('the server inside the .vsix, unpacked outside the repository without a compiler', () => {
  const entry = (): string => join(unpacked, 'extension', 'server', 'bin', 'choppa-lsp.cjs');
  let editor: EditorClient;
  let root: string;
  let uri: string;
  const text = 'from choppa import Choppa\n\ndutch = Choppa()\n\n@dutch.artifact\ndef table(n=50):\n    return {"rows": list(range(n))}\n';

  beforeAll(async () => {
    root = tempDir('choppa-vsix-run-');
    writeFileSync(join(root, 'jobs.py'), text);
    editor = await EditorClient.start({ root, command: [process.execPath, entry(), '--stdio'], env: { PATH: shims.path(), CHOPPA_PARSER: '' } });
    uri = await editor.open(join(root, 'jobs.py'), text);
    await editor.waitForDiagnostics(uri);
  }, 60_000);
  afterAll(async () => {
    await editor?.stop();
  });

  it('says it parses on WebAssembly', async () => {
    const version = spawnSync(process.execPath, [entry(), '--version'], { encoding: 'utf8', env: { ...process.env, PATH: shims.path(), CHOPPA_PARSER: '' } });
    expect(version.stdout).toContain('(WebAssembly)');
    // Log lines go out in batches (at most 50 ms late).
    await expect.poll(() => editor.logs.some((line) => line.includes('parser: web-tree-sitter'))).toBe(true);
  });

  it('runs a function as an artifact and dereferences it, verified', async () => {
    await runAndDereference(editor, uri, 'table');
  }, 60_000);
});
