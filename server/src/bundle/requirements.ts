// The project's requirement lines, as pip reads them: `choppa.requirementsFile` when set, else
// `requirements.txt` of the workspace folder, else `[project] dependencies` of `pyproject.toml`.
// A run that imports third-party packages carries them as `payload.requirements = {hash, lines}`;
// the runner installs them once per hash into a folder it reuses. Option lines (`--index-url`,
// `--find-links`, `--no-index`) are pip's own and pass through; includes (`-r`, `-c`) and editable
// installs (`-e`) name files of this machine and are refused.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { listsDependencies, parsePyproject, projectDependencies } from '../workspace-index/pyproject.js';

export interface Requirements {
  hash: string;
  lines: string[];
  /** Where they were read, for messages. */
  source: string;
}

const MAX_LINES = 500;
const MAX_LINE = 1000;

/**
 * The folder whose requirements a file's runs install: with `choppa.requirementsFile` the
 * workspace folder it is relative to, else the nearest folder from the file's own up to `root`
 * that declares them (a `requirements.txt`, or a `pyproject.toml` with a `[project]` table), so
 * each project of a monorepo brings its own; `root` when none does.
 */
export function requirementsFolder(filePath: string, root: string | null, file: string | null): string {
  const top = root ?? dirname(filePath);
  if (file !== null) return top;
  for (let dir = dirname(filePath); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'requirements.txt'))) return dir;
    const pyproject = readText(join(dir, 'pyproject.toml'));
    if (pyproject !== undefined && pyproject.length <= MAX_FILE) {
      const parsed = parsePyproject(pyproject);
      if ('failure' in parsed || Object.hasOwn(parsed.table, 'project')) return dir;
    }
    const inside = dir !== top && (dir.startsWith(top.endsWith(sep) ? top : top + sep));
    if (!inside || dirname(dir) === dir) return top;
  }
}

/** The declared requirements of `root`, undefined when there are none. */
export function readRequirements(root: string, file: string | null): Requirements | undefined | { failure: string } {
  if (file !== null) {
    const path = isAbsolute(file) ? file : join(root, file);
    const text = readText(path);
    if (text === undefined) return { failure: `the requirements file ${path} (choppa.requirementsFile) cannot be read` };
    return fromLines(requirementLines(text), path);
  }
  const requirementsTxt = readText(join(root, 'requirements.txt'));
  if (requirementsTxt !== undefined) return fromLines(requirementLines(requirementsTxt), join(root, 'requirements.txt'));
  const pyprojectPath = join(root, 'pyproject.toml');
  const pyproject = readText(pyprojectPath);
  if (pyproject === undefined) return undefined;
  if (pyproject.length > MAX_FILE) return { failure: `${pyprojectPath} is over ${MAX_FILE / 1024 / 1024} MB; name a requirements file in choppa.requirementsFile` };
  const dependencies = projectDependencies(parsePyproject(pyproject));
  if ('failure' in dependencies) {
    return { failure: `${pyprojectPath}: ${dependencies.failure}, so the project's requirements cannot be read; fix it, or name a requirements file in choppa.requirementsFile` };
  }
  return fromLines(dependencies, pyprojectPath);
}

/**
 * Where a new requirement of the project goes, by the same precedence as `readRequirements`: the
 * file they are read from, `[project] dependencies` when `pyproject.toml` declares them (a new
 * `requirements.txt` would hide them all), else `requirements.txt`, created if need be.
 */
export function requirementsTarget(root: string, file: string | null): { kind: 'lines' | 'pyproject'; path: string } {
  if (file !== null) return { kind: 'lines', path: isAbsolute(file) ? file : join(root, file) };
  const requirementsTxt = join(root, 'requirements.txt');
  if (existsSync(requirementsTxt)) return { kind: 'lines', path: requirementsTxt };
  const pyprojectPath = join(root, 'pyproject.toml');
  const pyproject = readText(pyprojectPath);
  if (pyproject === undefined) return { kind: 'lines', path: requirementsTxt };
  const parsed = parsePyproject(pyproject);
  // A file that is not TOML may still hold the list: it is the one to fix, not to shadow.
  if ('failure' in parsed) return { kind: 'pyproject', path: pyprojectPath };
  return listsDependencies(parsed) ? { kind: 'pyproject', path: pyprojectPath } : { kind: 'lines', path: requirementsTxt };
}

/** The meaningful lines of a requirements file: no comments, no blanks, continuations joined. */
export function requirementLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

function fromLines(lines: string[], source: string): Requirements | undefined | { failure: string } {
  if (lines.length === 0) return undefined;
  if (lines.length > MAX_LINES) return { failure: `${source} has ${lines.length} requirement lines, over the ${MAX_LINES} choppa-lsp ships` };
  for (const line of lines) {
    if (line.length > MAX_LINE) return { failure: `a line of ${source} is over ${MAX_LINE} characters` };
    if (/^(-r|-c|-e|--requirement|--constraint|--editable)\b/.test(line)) {
      return { failure: `${source}: \`${line}\` names a file of this machine, which the cluster does not have; list the requirements themselves` };
    }
  }
  const hash = createHash('sha256').update(lines.join('\n')).digest('hex');
  return { hash, lines, source };
}

const MAX_FILE = 1024 * 1024;

/** The file's text, one character past `MAX_FILE` at most (so a caller can tell it is too large). */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').slice(0, MAX_FILE + 1);
  } catch {
    return undefined;
  }
}
