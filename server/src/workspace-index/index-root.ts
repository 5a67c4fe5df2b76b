// The folder indexed for a file that no workspace folder holds (the CLI's file, a script opened in
// an editor that sent no workspace folder): the project it sits in, so the sibling modules its
// functions import ship with them, as `python file.py` would find them.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder to index for a file: the nearest one with a project marker (`pyproject.toml`,
 * `setup.cfg`, `setup.py`, `.git`, `.choppa`), else the folder above the file's packages.
 */
export function indexRoot(filePath: string): string {
  for (let dir = dirname(filePath); ; ) {
    if (['pyproject.toml', 'setup.cfg', 'setup.py', '.git', '.choppa'].some((marker) => existsSync(join(dir, marker)))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  let dir = dirname(filePath);
  while (existsSync(join(dir, '__init__.py')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
