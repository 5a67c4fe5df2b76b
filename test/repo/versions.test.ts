// One version number for everything a user installs: the choppa-lsp npm package, the VS Code
// extension and the Neovim plugin carry the same one, and CHANGELOG.md has a section for it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(REPO, path), 'utf8');
const server = (JSON.parse(read('server/package.json')) as { version: string }).version;

describe('one version number', () => {
  it('is a plain semantic version', () => {
    expect(server).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is the VS Code extension\'s', () => {
    expect((JSON.parse(read('client-vscode/package.json')) as { version: string }).version).toBe(server);
  });

  it('is the Neovim plugin\'s', () => {
    expect(read('client-neovim/lua/choppa/version.lua')).toMatch(new RegExp(`^return '${server.replace(/\./g, '\\.')}'$`, 'm'));
  });

  it('has its section in CHANGELOG.md, the newest first', () => {
    const first = /^## (\S+)/m.exec(read('CHANGELOG.md'));
    expect(first?.[1]).toBe(server);
  });
});
