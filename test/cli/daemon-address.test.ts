// Where a CLI daemon listens, as pure code: one socket per folder and environment (a shell's own
// bookkeeping variables aside), within sun_path in macOS's per-user temp folder, and no daemon
// on Windows or with CHOPPA_DAEMON=0.
import { describe, expect, it } from 'vitest';
import { daemonDir, daemonWanted, runIdentity, sameIdentity, socketPath } from '../../server/src/cli-daemon/daemon-address.js';

const ROOT = '/opt/lib/node_modules/choppa-lsp';
const ENTRY = `${ROOT}/bin/choppa-lsp.cjs`;

describe('the daemon address', () => {
  it('is one per folder and environment, whatever a shell changes by itself', () => {
    const env = { HOME: '/home/ada', PATH: '/usr/bin', DATABRICKS_HOST: 'https://a.example' };
    const base = runIdentity(ROOT, ENTRY, '/home/ada/project', env);
    const path = socketPath('/run/user/1000/choppa-lsp', base);
    expect(socketPath('/run/user/1000/choppa-lsp', runIdentity(ROOT, ENTRY, '/home/ada/project', { ...env, PWD: '/x', OLDPWD: '/y', SHLVL: '3', _: '/usr/bin/node' }))).toBe(path);
    expect(sameIdentity(base, runIdentity(ROOT, ENTRY, '/home/ada/project', { ...env, SHLVL: '2' }))).toBe(true);
    for (const other of [runIdentity(ROOT, ENTRY, '/home/ada/other', env), runIdentity(ROOT, ENTRY, '/home/ada/project', { ...env, DATABRICKS_HOST: 'https://b.example' }), runIdentity(ROOT, ENTRY, '/home/ada/project', { ...env, EXTRA: '' })]) {
      expect(socketPath('/run/user/1000/choppa-lsp', other)).not.toBe(path);
      expect(sameIdentity(base, other)).toBe(false);
    }
  });

  it('tells apart environments that differ by one character anywhere, a last one included', () => {
    const env = { HOME: '/home/ada', PATH: '/usr/bin', DATABRICKS_HOST: 'https://a.example' };
    const paths = new Set<string | undefined>();
    // Values of every length mod 4 (the hash takes four bytes at a time), each one character apart.
    for (const value of ['', 'a', 'b', 'ab', 'ac', 'abc', 'abd', 'abcd', 'abce', 'é', 'ê', 'abcdé']) {
      paths.add(socketPath('/run/user/1000/choppa-lsp', runIdentity(ROOT, ENTRY, '/home/ada/project', { ...env, Z_LAST: value })));
    }
    expect(paths.size).toBe(12);
  });

  it('fits sun_path in macOS per-user temp folder, and gives up rather than overflow it', () => {
    const identity = runIdentity(ROOT, ENTRY, '/Users/ada/project', { HOME: '/Users/ada' });
    // os.tmpdir() on macOS, and our folder in it.
    const mac = '/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/choppa-lsp-501';
    expect(socketPath(mac, identity)!.length).toBeLessThanOrEqual(100);
    expect(socketPath(`/${'deep/'.repeat(20)}`, identity)).toBeUndefined();
  });

  it('is wanted unless on Windows or switched off', () => {
    expect(daemonWanted({}, 'linux')).toBe(true);
    expect(daemonWanted({}, 'darwin')).toBe(true);
    expect(daemonWanted({}, 'win32')).toBe(false);
    for (const off of ['0', 'off', 'false']) expect(daemonWanted({ CHOPPA_DAEMON: off }, 'linux')).toBe(false);
    expect(daemonDir({ CHOPPA_DAEMON_DIR: '/x/d', XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/x/d');
    expect(daemonDir({ XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/run/user/1/choppa-lsp');
  });
});
