// undici, loaded on the first HTTP request rather than at start: importing it costs about 50 ms
// of the server's start, and a session on the local backend never needs it.
import type * as Undici from 'undici';

let loaded: Promise<typeof Undici> | undefined;

/** The undici module, imported once, on first use. */
export function undici(): Promise<typeof Undici> {
  loaded ??= import('undici');
  return loaded;
}
