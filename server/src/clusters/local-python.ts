// The local Python's version (`3.12`): the interpreter that pickles arguments and unpickles
// results, compared with the cluster runtime's. Asked once per command, with a deadline.
import { execFile } from 'node:child_process';

const known = new Map<string, Promise<string | undefined>>();

export function localPythonVersion(command: string): Promise<string | undefined> {
  let version = known.get(command);
  if (!version) {
    version = new Promise((resolve) => {
      execFile(command, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { timeout: 5_000, windowsHide: true }, (error, stdout) => {
        const match = /^(\d+\.\d+)\s*$/.exec(String(stdout));
        resolve(error || !match ? undefined : match[1]);
      });
    });
    known.set(command, version);
  }
  return version;
}
