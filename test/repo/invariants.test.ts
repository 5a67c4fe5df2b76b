// Repo rules as tests, so they hold without reviewer memory: layering (which folders may import
// what), file naming and headers, named exports, `node:` prefixes, no showMessageRequest, and
// the settings schema mirrored by the VS Code manifest, the Neovim help and ARCHITECTURE.md.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS_SCHEMA } from '../../server/src/config/settings.js';
import { COMMANDS } from '../../server/src/protocol/extensions.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const SRC = join(REPO, 'server', 'src');

function walk(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : walk(path, ext);
    return name.endsWith(ext) ? [path] : [];
  });
}

const sources = walk(SRC, '.ts').map((path) => ({ path, rel: relative(SRC, path), text: readFileSync(path, 'utf8') }));
const testSources = walk(join(REPO, 'test'), '.ts').map((path) => ({ path, rel: relative(REPO, path), text: readFileSync(path, 'utf8') }));

function importsOf(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)].map(
    (match) => match[1] ?? match[2] ?? '',
  );
}

describe('layering', () => {
  const inner = ['analysis/', 'syntax/', 'config/', 'backends/'];
  it.each(inner)('%s never imports the LSP libraries', (folder) => {
    const offenders = sources
      .filter((file) => file.rel.startsWith(folder))
      .filter((file) => importsOf(file.text).some((spec) => spec.startsWith('vscode-languageserver')))
      .map((file) => file.rel);
    expect(offenders).toEqual([]);
  });

  it.each(['analysis/', 'syntax/'])('%s does no I/O (no fs, child_process, undici, ini)', (folder) => {
    const banned = ['node:fs', 'node:fs/promises', 'node:child_process', 'undici', 'ini', 'node:net', 'node:http'];
    const offenders = sources
      .filter((file) => file.rel.startsWith(folder))
      .filter((file) => importsOf(file.text).some((spec) => banned.includes(spec)))
      .map((file) => file.rel);
    expect(offenders).toEqual([]);
  });

  it('analysis never imports the engine, backends or protocol', () => {
    const offenders = sources
      .filter((file) => file.rel.startsWith('analysis/'))
      .filter((file) => importsOf(file.text).some((spec) => /\/(engine|backends|protocol)\//.test(spec)))
      .map((file) => file.rel);
    expect(offenders).toEqual([]);
  });

  it('LSP types appear only in the protocol layer and its owners', () => {
    const allowed = /^(protocol\/|server\.ts$|stdio-server\.ts$|capabilities\.ts$|session\.ts$|documents\.ts$|main\.ts$|demo\/)/;
    const offenders = sources
      .filter((file) => !allowed.test(file.rel))
      .filter((file) => importsOf(file.text).some((spec) => spec.startsWith('vscode-languageserver')))
      .map((file) => file.rel);
    expect(offenders).toEqual([]);
  });

  it('protocol handlers stay thin (at most about 60 lines of code each)', () => {
    const fat = sources
      .filter((file) => file.rel.startsWith('protocol/handlers/'))
      .filter((file) => file.text.split('\n').filter((line) => line.trim() && !line.trim().startsWith('//')).length > 60)
      .map((file) => file.rel);
    expect(fat).toEqual([]);
  });
});

describe('style', () => {
  const all = [...sources.map((file) => ({ ...file, rel: `server/src/${file.rel}` })), ...testSources];

  it('file names are kebab-case', () => {
    const bad = all.map((file) => file.rel.split('/').pop()!).filter((name) => !/^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z]+)*\.ts$/.test(name));
    expect(bad).toEqual([]);
  });

  it('every file starts with a header comment saying what it is for', () => {
    const bare = all.filter((file) => !/^(#!.*\n)?\/\/ \S/.test(file.text)).map((file) => file.rel);
    expect(bare).toEqual([]);
  });

  it('exports are named (no default exports)', () => {
    expect(all.filter((file) => /^export default/m.test(file.text)).map((file) => file.rel)).toEqual([]);
  });

  it('node built-ins are imported with the node: prefix', () => {
    const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')));
    const offenders = all.flatMap((file) =>
      importsOf(file.text)
        .filter((spec) => builtins.has(spec.split('/')[0]!) && !spec.startsWith('node:'))
        .map((spec) => `${file.rel}: ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('no section banners', () => {
    expect(all.filter((file) => /^\s*\/\/\s*(=|-|\*){4,}/m.test(file.text)).map((file) => file.rel)).toEqual([]);
  });

  it('the server never asks the client with showMessageRequest, and never writes to stdout', () => {
    const offenders = sources
      .filter((file) => !file.rel.startsWith('cli/') && !file.rel.startsWith('cli-daemon/') && !file.rel.startsWith('demo/'))
      .filter((file) => {
        const code = file.text.replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '');
        return /showMessageRequest|show(Information|Warning|Error)Message\(|console\.log\(|process\.stdout\.write/.test(code);
      })
      .map((file) => file.rel);
    expect(offenders).toEqual([]);
  });

  it('Python files carry a header too', () => {
    const python = walk(join(REPO, 'server', 'python'), '.py');
    expect(python.length).toBeGreaterThan(0);
    for (const path of python) expect(readFileSync(path, 'utf8')).toMatch(/^(#!.*\n)?("""|#)/);
  });
});

describe('settings have one schema', () => {
  const keys = Object.keys(SETTINGS_SCHEMA).sort();

  it('the VS Code manifest mirrors it key for key, with the same types and defaults', () => {
    const manifest = JSON.parse(readFileSync(join(REPO, 'client-vscode', 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { type: unknown; default: unknown; enum?: string[]; markdownDescription?: string }> } };
    };
    const properties = manifest.contributes.configuration.properties;
    expect(Object.keys(properties).sort()).toEqual(keys.map((key) => `choppa.${key}`));
    for (const key of keys) {
      const spec = SETTINGS_SCHEMA[key]!;
      const mirrored = properties[`choppa.${key}`]!;
      // VS Code edits only non-null settings in its UI: an unset string is "" there, which
      // parseSettings reads as unset.
      expect(mirrored.default, key).toEqual(spec.default === null ? '' : spec.default);
      expect(mirrored.type, key).toEqual(spec.type);
      expect(mirrored.enum, key).toEqual(spec.enum);
      expect(mirrored.markdownDescription, key).toEqual(spec.description);
    }
  });

  it('the Neovim plugin knows every key, to warn about the others in :checkhealth', () => {
    const lua = readFileSync(join(REPO, 'client-neovim', 'lua', 'choppa', 'settings.lua'), 'utf8');
    const block = /M\.KEYS = \{([^}]*)\}/.exec(lua)?.[1] ?? '';
    expect([...block.matchAll(/'([^']+)'/g)].map((match) => match[1]).sort()).toEqual(keys);
  });

  it('the Neovim help ships its tags, so :help choppa works without :helptags', () => {
    const help = readFileSync(join(REPO, 'client-neovim', 'doc', 'choppa.txt'), 'utf8');
    const tags = readFileSync(join(REPO, 'client-neovim', 'doc', 'tags'), 'utf8');
    const defined = [...help.matchAll(/\*([^*\s|]+)\*/g)].map((match) => match[1]).sort();
    const listed = tags.trim().split('\n').map((line) => line.split('\t')[0]).sort();
    expect(listed).toEqual(defined);
  });

  it('the Neovim help documents every setting', () => {
    const help = readFileSync(join(REPO, 'client-neovim', 'doc', 'choppa.txt'), 'utf8');
    const documented = [...help.matchAll(/\*choppa-setting-([A-Za-z.]+)\*/g)].map((match) => match[1]).sort();
    expect(documented).toEqual(keys);
  });
});

describe('custom protocol is declared once and documented', () => {
  const architecture = readFileSync(join(REPO, 'ARCHITECTURE.md'), 'utf8');
  const dispatcher = readFileSync(join(SRC, 'protocol', 'handlers', 'execute-command.ts'), 'utf8');
  it.each(Object.entries(COMMANDS))('%s (%s) is handled and described in ARCHITECTURE.md', (name, command) => {
    expect(dispatcher).toContain(`COMMANDS.${name}`);
    expect(architecture).toContain(`\`${command}\``);
  });

  it('ARCHITECTURE.md names every source folder', () => {
    const folders = [...new Set(sources.map((file) => file.rel.split('/').slice(0, -1).join('/')).filter(Boolean))];
    for (const folder of folders) expect(architecture, folder).toContain(`${folder}/`);
  });
});
