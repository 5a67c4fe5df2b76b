// The one place the Databricks config file touches the disk: a reader to hand to
// `resolveConfig`, which itself does no I/O.
import { readFileSync } from 'node:fs';

/**
 * Reads the config file as UTF-8; undefined when it does not exist, which is not an error
 * (SDK rule). Other failures (permissions, a directory) throw, and `resolveConfig` reports them.
 */
export function loadConfigFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
