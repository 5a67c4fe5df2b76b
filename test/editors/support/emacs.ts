// The Emacs versions the editor tests drive, with where each finds eglot: Debian bookworm's Emacs 28
// with elpa-eglot 1.9, and forky's Emacs 30 with its built-in eglot (scripts/install-emacs.sh).
import { join } from 'node:path';
import { EDITORS_DIR } from './headless-env.js';

export const INSTALL = 'scripts/install-emacs.sh';
const EMACS = '/usr/bin/emacs';
const EGLOT = '/usr/share/emacs/site-lisp/elpa-src/eglot-1.9/eglot.el';

export interface EmacsVersion {
  label: string;
  binary: string;
  /** A file whose absence means this Emacs (and its eglot) is not installed. */
  needs: string;
  /** Emacs 28 finds eglot in Debian's elpa; 29+ has it built in. */
  packages: string[];
  version: RegExp;
  eglot: (version: number[]) => boolean;
}

/** Debian bookworm's Emacs 28 with elpa-eglot 1.9, and forky's Emacs 30 with its built-in eglot. */
export const EMACSES: EmacsVersion[] = [
  { label: '28', binary: EMACS, needs: EGLOT, packages: ['/usr/share/emacs/site-lisp/elpa'], version: /^28\./, eglot: (v) => v.join('.') === '1.9' },
  {
    label: '30',
    binary: join(EDITORS_DIR, 'bin', 'emacs-30'),
    needs: join(EDITORS_DIR, 'bin', 'emacs-30'),
    packages: [],
    version: /^30\./,
    eglot: (v) => v[0]! > 1 || (v[0] === 1 && v[1]! >= 17),
  },
];
