// What differs between Linux, macOS and Windows when the server looks for programs and folders
// on the user's machine: the path flavour, where executables are found (PATHEXT and the
// case-insensitive `Path` on Windows, so `az` is `az.cmd`), the default Python command and the
// user cache folder. Pure: the platform, environment and file check come from the caller, so
// Windows behaviour is tested on Linux with `path.win32`.
import { posix, win32, type PlatformPath } from 'node:path';

/** The path functions of `platform`: `path.win32` on Windows, `path.posix` elsewhere. */
export function pathFor(platform: NodeJS.Platform): PlatformPath {
  return platform === 'win32' ? win32 : posix;
}

/** An environment variable, by its case-insensitive name on Windows (`Path`, `PATHEXT`). */
export function envValue(env: NodeJS.ProcessEnv, name: string, platform: NodeJS.Platform): string | undefined {
  if (platform !== 'win32') return env[name];
  const key = Object.keys(env).find((candidate) => candidate.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

/**
 * The files that running `name` could mean, in the order the shell tries them: each PATH folder,
 * and on Windows each PATHEXT extension (`az` → `az.exe`, `az.cmd`, …) unless `name` has one.
 * A name with a folder in it is only itself.
 */
export function executableCandidates(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const path = pathFor(platform);
  const windows = platform === 'win32';
  const hasFolder = windows ? /[\\/]/.test(name) : name.includes('/');
  const extensions = windows
    ? (envValue(env, 'PATHEXT', platform) ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean).map((ext) => ext.toLowerCase())
    : [];
  const withExtensions = (base: string): string[] =>
    windows && path.extname(base) === '' ? extensions.map((ext) => base + ext) : [base];
  if (hasFolder) return withExtensions(name);
  const folders = (envValue(env, 'PATH', platform) ?? '').split(path.delimiter).filter(Boolean);
  return folders.flatMap((folder) => withExtensions(path.join(folder.replace(/^"(.*)"$/, '$1'), name)));
}

/** The first candidate for `name` that `isExecutable` accepts, or undefined. */
export function findExecutable(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  isExecutable: (file: string) => boolean,
): string | undefined {
  return executableCandidates(name, env, platform).find(isExecutable);
}

/** Python's usual command: `python` on Windows (python.org and conda ship no `python3.exe`). */
export function defaultPythonCommand(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/**
 * The interpreter to start for the `pythonPath` setting: the setting as given, except that its
 * default (`python3`) means the platform's usual command.
 */
export function pythonCommand(setting: string, platform: NodeJS.Platform): string {
  return setting === 'python3' ? defaultPythonCommand(platform) : setting;
}

/**
 * The per-user cache folder: `$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on
 * macOS, `%LOCALAPPDATA%` (or `~\AppData\Local`) on Windows.
 */
export function userCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  const path = pathFor(platform);
  if (platform === 'win32') return envValue(env, 'LOCALAPPDATA', platform) || path.join(home, 'AppData', 'Local');
  if (env['XDG_CACHE_HOME']) return env['XDG_CACHE_HOME'];
  return platform === 'darwin' ? path.join(home, 'Library', 'Caches') : path.join(home, '.cache');
}
