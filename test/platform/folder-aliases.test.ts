// Paths reached through symbolic links are named as the workspace folder holding them names
// them; the real paths come from a table standing in for the file system.
import { describe, expect, it } from 'vitest';
import { pathInFolders } from '../../server/src/platform/folder-aliases.js';

// `/home/me/work` is a link to `/data/work`; `/data/work/new.py` does not exist yet.
const links: Record<string, string> = { '/home/me/work': '/data/work', '/home/me/work/': '/data/work', '/data/work': '/data/work', '/data/work/jobs.py': '/data/work/jobs.py', '/data/work/sub': '/data/work/sub', '/data/work/sub/x.py': '/data/work/sub/x.py', '/tmp': '/tmp', '/tmp/y.py': '/tmp/y.py' };
const realpath = (path: string): string => {
  const real = links[path];
  if (real === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  return real;
};

describe('pathInFolders', () => {
  it.each([
    ['a file inside a folder as written', '/home/me/work/jobs.py', ['/home/me/work'], '/home/me/work/jobs.py'],
    ['a file by its real path, the folder through a link', '/data/work/jobs.py', ['/home/me/work'], '/home/me/work/jobs.py'],
    ['a file not yet on disk', '/data/work/new.py', ['/home/me/work'], '/home/me/work/new.py'],
    ['the deepest folder wins', '/data/work/sub/x.py', ['/home/me/work', '/data/work/sub'], '/data/work/sub/x.py'],
    ['a file outside every folder', '/tmp/y.py', ['/home/me/work'], '/tmp/y.py'],
    ['no folders', '/data/work/jobs.py', [], '/data/work/jobs.py'],
    ['a folder given with a trailing separator', '/data/work/jobs.py', ['/home/me/work/'], '/home/me/work/jobs.py'],
  ])('%s', (_, path, folders, expected) => {
    expect(pathInFolders(path, folders, realpath)).toBe(expected);
  });
});
