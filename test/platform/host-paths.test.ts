// Windows and macOS cannot run here, so their path handling is checked with `path.win32` and
// made-up environments: executables through PATHEXT (`az` is `az.cmd`), the case-insensitive
// `Path`, quoted PATH entries, `python` vs `python3`, and each platform's cache folder.
import { describe, expect, it } from 'vitest';
import {
  defaultPythonCommand,
  executableCandidates,
  findExecutable,
  pathFor,
  pythonCommand,
  userCacheDir,
} from '../../server/src/platform/host-paths.js';

const WINDOWS_ENV = {
  Path: 'C:\\Windows\\system32;"C:\\Program Files\\Microsoft SDKs\\Azure\\CLI2\\wbin";C:\\Users\\ann\\AppData\\Roaming\\npm',
  PATHEXT: '.COM;.EXE;.BAT;.CMD',
  LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local',
};

describe('executables on Windows', () => {
  it('finds az as az.cmd in a quoted folder of a mixed-case Path', () => {
    const files = new Set(['C:\\Program Files\\Microsoft SDKs\\Azure\\CLI2\\wbin\\az.cmd']);
    expect(findExecutable('az', WINDOWS_ENV, 'win32', (file) => files.has(file))).toBe('C:\\Program Files\\Microsoft SDKs\\Azure\\CLI2\\wbin\\az.cmd');
  });

  it('tries every PATHEXT extension in each folder, in order', () => {
    expect(executableCandidates('databricks', { Path: 'C:\\a;C:\\b', PATHEXT: '.EXE;.CMD' }, 'win32')).toEqual([
      'C:\\a\\databricks.exe',
      'C:\\a\\databricks.cmd',
      'C:\\b\\databricks.exe',
      'C:\\b\\databricks.cmd',
    ]);
  });

  it('takes a name with an extension or a folder as it is', () => {
    expect(executableCandidates('python.exe', { Path: 'C:\\py' }, 'win32')).toEqual(['C:\\py\\python.exe']);
    expect(executableCandidates('C:\\py\\python.exe', { Path: 'C:\\other' }, 'win32')).toEqual(['C:\\py\\python.exe']);
    expect(executableCandidates('C:/tools/choppa-lsp', { PATHEXT: '.CMD' }, 'win32')).toEqual(['C:/tools/choppa-lsp.cmd']);
  });

  it('finds npm\'s choppa-lsp.cmd shim', () => {
    const files = new Set(['C:\\Users\\ann\\AppData\\Roaming\\npm\\choppa-lsp.cmd']);
    expect(findExecutable('choppa-lsp', WINDOWS_ENV, 'win32', (file) => files.has(file))).toBe('C:\\Users\\ann\\AppData\\Roaming\\npm\\choppa-lsp.cmd');
  });
});

describe('executables on Linux and macOS', () => {
  it('uses PATH with `:` and no extensions, and a backslash is part of the name', () => {
    expect(executableCandidates('az', { PATH: '/usr/local/bin:/opt/homebrew/bin', PATHEXT: '.CMD' }, 'darwin')).toEqual(['/usr/local/bin/az', '/opt/homebrew/bin/az']);
    expect(executableCandidates('a\\b', { PATH: '/bin' }, 'linux')).toEqual(['/bin/a\\b']);
    expect(executableCandidates('az', { Path: '/usr/bin' }, 'linux')).toEqual([]);
  });
});

describe('python and cache folders', () => {
  it('runs `python` on Windows for the default setting, `python3` elsewhere, and any other setting as given', () => {
    expect(defaultPythonCommand('win32')).toBe('python');
    expect(pythonCommand('python3', 'win32')).toBe('python');
    expect(pythonCommand('python3', 'darwin')).toBe('python3');
    expect(pythonCommand('C:\\conda\\python.exe', 'win32')).toBe('C:\\conda\\python.exe');
    expect(pythonCommand('/usr/bin/python3.12', 'linux')).toBe('/usr/bin/python3.12');
  });

  it('puts the cache where each platform keeps it', () => {
    expect(userCacheDir(WINDOWS_ENV, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Local');
    expect(userCacheDir({}, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Local');
    expect(userCacheDir({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Caches');
    expect(userCacheDir({ XDG_CACHE_HOME: '/tmp/c' }, 'linux', '/home/ann')).toBe('/tmp/c');
    expect(userCacheDir({}, 'linux', '/home/ann')).toBe('/home/ann/.cache');
    expect(pathFor('win32').join(userCacheDir({}, 'win32', 'C:\\Users\\ann'), 'choppa-lsp')).toBe('C:\\Users\\ann\\AppData\\Local\\choppa-lsp');
  });
});
