// The README's first command must stay true: `npm run demo` plays an editor against the real
// server and shows every step of the main job, ending in a verified dereference.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');

describe('npm run demo', () => {
  it('shows the scope warning, a result, a ref, a chained call, a remote error and a dereference', () => {
    const result = spawnSync(process.execPath, [join(REPO, 'server', 'dist', 'demo', 'demo.js')], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toContain('⚠ warning line 43: `json` is a module-level import');
    expect(out).toMatch(/· hint line 14: add\(1, 2\) → 3 · \d+ ms · local python3\.\d+/);
    expect(out).toMatch(/get_stuff\(\) → ArtifactRef 1\.2 MB \(list\)/);
    expect(out).toMatch(/analyze_stuff\(data\) → \{'count': 200000, 'max': 39999600001\}/);
    expect(out).toContain('✖ error line 38: ZeroDivisionError: division by zero');
    expect(out).toMatch(/local copy: examples\/demo\/\.choppa\/artifacts\/get_stuff-\S+\.pkl \(1307375 bytes, sha256 [0-9a-f]{16}… verified\)/);
  });

  it('plays the same steps on a Dask cluster it starts on loopback (npm run demo -- --dask)', () => {
    const result = spawnSync(process.execPath, [join(REPO, 'server', 'dist', 'demo', 'demo.js'), '--dask'], { cwd: REPO, encoding: 'utf8', timeout: 150_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/on a Dask cluster on loopback \(tcp:\/\/127\.0\.0\.1:\d+, 2 workers\)/);
    expect(out).toMatch(/· hint line 14: add\(1, 2\) → 3 · \d+ ms · dask tcp:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/get_stuff\(\) → ArtifactRef 1\.2 MB \(list\)/);
    expect(out).toMatch(/analyze_stuff\(data\) → \{'count': 200000, 'max': 39999600001\}/);
    expect(out).toContain('✖ error line 38: ZeroDivisionError: division by zero');
    expect(out).toMatch(/local copy: examples\/demo\/\.choppa\/artifacts\/get_stuff-\S+\.pkl \(1307375 bytes, sha256 [0-9a-f]{16}… verified\)/);
  }, 160_000);
});
