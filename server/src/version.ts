// The server's version, read once from its package.json so the CLI, serverInfo and the
// Databricks User-Agent never disagree with what npm installed.
import { readFileSync } from 'node:fs';
import { packageFile } from './package-files.js';

/** The `version` of `server/package.json`. */
export const VERSION: string = (
  JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }
).version;
