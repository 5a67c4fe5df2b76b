// The disk side of the config file: missing is undefined (not an error), other failures throw
// so that resolveConfig can report them.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../server/src/config/config-file.js';
import { resolveConfig } from '../../server/src/config/databricks-config.js';

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'choppa-config-'));

  it('reads UTF-8 text', () => {
    const path = join(dir, 'cfg');
    writeFileSync(path, '[DEFAULT]\nhost = h\n');
    expect(loadConfigFile(path)).toBe('[DEFAULT]\nhost = h\n');
  });

  it.each([join(dir, 'absent'), join(dir, 'absent', 'deeper')])('returns undefined for a missing file (%s)', (path) => {
    expect(loadConfigFile(path)).toBeUndefined();
  });

  it('throws for a directory, and resolveConfig turns that into an error', () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path);
    expect(() => loadConfigFile(path)).toThrow();
    const result = resolveConfig({ settings: { configFile: path }, env: {}, readFile: loadConfigFile, homeDir: dir });
    expect(result.ok ? '' : result.error).toMatch(/^resolve: cannot parse config file: EISDIR/);
  });

  it('resolves a profile from a real file with a BOM and CRLF', () => {
    const path = join(dir, 'databrickscfg');
    writeFileSync(path, '\uFEFF[DEFAULT]\r\nhost = https://x.cloud.databricks.com/\r\ntoken = abc#def\r\n');
    const result = resolveConfig({ settings: { configFile: path }, env: {}, readFile: loadConfigFile, homeDir: dir });
    expect(result.ok && result.config.auth.type === 'pat' && result.config.auth.token.reveal()).toBe('abc#def');
  });
});
