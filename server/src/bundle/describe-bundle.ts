// What ships with a function, as text for the hover and `choppa-lsp bundle`: the project modules
// (with their sizes), the bundle's hash and path, and the third-party imports the cluster itself
// must provide.
import { relative, sep } from 'node:path';
import { formatBytes } from '../engine/format.js';
import type { CodeBundle } from './code-bundle.js';

/**
 * Markdown lines (also readable as plain text). Each module is named by its file relative to
 * `from` (the project root, the terminal's folder): in a monorepo or a linked folder the name
 * inside the zip does not say which file of the workspace it is.
 */
export function describeBundle(functionName: string, bundle: CodeBundle | undefined | { failure: string }, from?: string): string[] {
  if (bundle === undefined) return [`Ships with \`${functionName}\`: its source only (it imports no project module).`];
  if ('failure' in bundle) return [`Ships with \`${functionName}\`: nothing, because ${bundle.failure}.`];
  const lines = [
    `Ships with \`${functionName}\`: ${bundle.files.length} project module${bundle.files.length === 1 ? '' : 's'}, ${formatBytes(bundle.zip.length)} zip \`${bundle.ref.hash.slice(0, 12)}\`:`,
    '',
  ];
  const shown = bundle.files.slice(0, 20);
  const where = (source: string, name: string): string => (from === undefined ? name : relative(from, source).split(sep).join('/'));
  for (const file of shown) lines.push(`- \`${file.module}\` (${where(file.source, file.name)}, ${formatBytes(file.size)})`);
  if (bundle.files.length > shown.length) lines.push(`- … and ${bundle.files.length - shown.length} more`);
  if (bundle.external.length > 0) lines.push('', `Imports the cluster must provide: ${bundle.external.map((name) => `\`${name}\``).join(', ')}`);
  return lines;
}
