// Where the project of a file no workspace folder holds is (the CLI's file, a script opened in an
// editor that sent no workspace folder), in its two senses: the folder indexed, so the sibling
// modules its functions import ship as `python file.py` would find them, and the folder holding
// `.choppa/`, one per repository or project rather than one per package a command runs from.
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

/**
 * The project root of a file, where `.choppa/` goes: the nearest folder with `.choppa` or `.git`,
 * else the nearest with `pyproject.toml`, `setup.cfg` or `setup.py` (a project outside git keeps
 * one state folder, not one per package it runs from), else the file's own.
 */
export function stateRoot(filePath: string): string {
  let marked: string | undefined;
  for (let dir = dirname(filePath); ; ) {
    if (existsSync(join(dir, '.choppa')) || existsSync(join(dir, '.git'))) return dir;
    if (marked === undefined && ['pyproject.toml', 'setup.cfg', 'setup.py'].some((marker) => existsSync(join(dir, marker)))) marked = dir;
    const parent = dirname(dir);
    if (parent === dir) return marked ?? dirname(filePath);
    dir = parent;
  }
}
