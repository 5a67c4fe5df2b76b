// The project's requirement lines, as pip reads them: `choppa.requirementsFile` when set, else
// `requirements.txt` of the workspace folder, else `[project] dependencies` of `pyproject.toml`.
// A run that imports third-party packages carries them as `payload.requirements = {hash, lines}`;
// the runner installs them once per hash into a folder it reuses. Option lines (`--index-url`,
// `--find-links`, `--no-index`) are pip's own and pass through; includes (`-r`, `-c`) and editable
// installs (`-e`) name files of this machine and are refused.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface Requirements {
  hash: string;
  lines: string[];
  /** Where they were read, for messages. */
  source: string;
}

const MAX_LINES = 500;
const MAX_LINE = 1000;

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
  const pyproject = readText(join(root, 'pyproject.toml'));
  const dependencies = pyproject === undefined ? [] : projectDependencies(pyproject);
  return dependencies.length > 0 ? fromLines(dependencies, join(root, 'pyproject.toml')) : undefined;
}

/** The meaningful lines of a requirements file: no comments, no blanks, continuations joined. */
export function requirementLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** `dependencies = ["a>=1", "b"]` of the `[project]` table. */
export function projectDependencies(pyproject: string): string[] {
  const table = /^\[project\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(pyproject)?.[1] ?? '';
  const list = /^\s*dependencies\s*=\s*\[([\s\S]*?)\]/m.exec(table)?.[1] ?? '';
  return [...list.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)].map((match) => (match[1] ?? match[2] ?? '').trim()).filter((line) => line !== '');
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

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').slice(0, 1024 * 1024);
  } catch {
    return undefined;
  }
}
