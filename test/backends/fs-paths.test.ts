// The logical-to-local storage path mapping: the TS function and the runner's Python mirror
// must agree on every path, since the server reads what the runner wrote.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { mapLogicalPath, sidecarPath } from '../../server/src/backends/fs-paths.js';
import { RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';

const PYTHON = process.env['CHOPPA_TEST_PYTHON'] ?? 'python3';

const PATHS = [
  '/Workspace/Shared/x/f-1.pkl',
  '/Workspace',
  '/Workspace/',
  '/Workspace//a/./b/',
  '/Volumes/main/default/vol/f.pkl',
  'dbfs:/tmp/x/f-1.pkl',
  'dbfs:/',
  'dbfs:tmp/x',
  '/dbfs/tmp/x',
  '/tmp/x',
  '/etc/passwd',
  'relative/x',
  '',
  '/Workspace/../etc',
  'dbfs:/a/../../b',
  '/Workspace/a/..',
  '/Workspace/a\\..\\b',
  '/Workspace/a\0b',
  '/Workspacex/a',
  'DBFS:/a',
  '/Workspace/ünïcode/f.pkl',
];
const ROOTS = ['', '/tmp/root', '/tmp/root/'];

function pythonMappings(): (string | null)[][] {
  const script = [
    'import json, sys',
    'exec(open(sys.argv[1], encoding="utf-8").read())',
    'paths, roots = json.loads(sys.stdin.read())',
    'def one(p, r):',
    '    try:',
    '        return _choppa_runner.map_path(p, r)',
    '    except ValueError:',
    '        return None',
    'print(json.dumps([[one(p, r) for p in paths] for r in roots]))',
  ].join('\n');
  const out = execFileSync(PYTHON, ['-c', script, RUNNER_PATH], { input: JSON.stringify([PATHS, ROOTS]), encoding: 'utf8' });
  return JSON.parse(out) as (string | null)[][];
}

describe('mapLogicalPath', () => {
  it('agrees with the runner on every path and root', () => {
    const python = pythonMappings();
    const typescript = ROOTS.map((root) => PATHS.map((path) => mapLogicalPath(root, path) ?? null));
    expect(typescript).toEqual(python);
  });

  it('maps the three storage roots under the fs root', () => {
    expect(mapLogicalPath('/r', '/Workspace/a/b.pkl')).toBe('/r/Workspace/a/b.pkl');
    expect(mapLogicalPath('/r', '/Volumes/c/s/v/b.pkl')).toBe('/r/Volumes/c/s/v/b.pkl');
    expect(mapLogicalPath('/r', 'dbfs:/tmp/b.pkl')).toBe('/r/dbfs/tmp/b.pkl');
    expect(mapLogicalPath(undefined, 'dbfs:/tmp/b.pkl')).toBe('/dbfs/tmp/b.pkl');
  });

  it('refuses relative paths, `..` and other roots', () => {
    for (const path of ['x', '/Workspace/../x', 'dbfs:/../x', '/home/u/x', 'dbfs:x']) {
      expect(mapLogicalPath('/r', path)).toBeUndefined();
    }
  });

  it('finds the sidecar beside the pickle', () => {
    expect(sidecarPath('/r/Workspace/f-1.pkl')).toBe('/r/Workspace/f-1.json');
    expect(sidecarPath('/r/Workspace/f-1')).toBe('/r/Workspace/f-1.json');
  });
});
