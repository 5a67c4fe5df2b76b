// The server's version, read once from its package.json so the CLI, serverInfo and the
// Databricks User-Agent never disagree with what npm installed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `version` of `server/package.json` (`src/` and `dist/` both sit one level below it). */
export const VERSION: string = (
  JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { version: string }
).version;
