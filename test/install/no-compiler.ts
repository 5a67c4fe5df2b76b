// A PATH on which every C/C++ toolchain entry point fails, as on a laptop or a slim container
// without build tools: shims named gcc, g++, cc, c++ and make that log their call and exit 1.
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const COMPILERS = ['gcc', 'g++', 'cc', 'c++', 'make'];

export interface NoCompiler {
  /** The folder of shims, to put first on PATH. */
  bin: string;
  /** PATH with the shims first (and `extra` folders before them). */
  path(...extra: string[]): string;
  /** The calls the shims refused, one line each. */
  calls(): string[];
}

export function noCompiler(dir: string): NoCompiler {
  const bin = join(dir, 'no-compiler-bin');
  const log = join(dir, 'compiler-calls.log');
  mkdirSync(bin, { recursive: true });
  appendFileSync(log, '');
  for (const name of COMPILERS) {
    const shim = join(bin, name);
    writeFileSync(shim, `#!/bin/sh\necho "${name} $*" >> '${log}'\necho "${name}: no compiler on this machine (test shim)" >&2\nexit 1\n`);
    chmodSync(shim, 0o755);
  }
  return {
    bin,
    path: (...extra) => [...extra, bin, process.env['PATH'] ?? ''].join(delimiter),
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}
