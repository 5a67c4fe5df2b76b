// The readable preview written beside a dereferenced artifact (`<name>.pkl.preview.md`): what it
// is, the table of its first rows when it is table-like, its repr, and how to load it. Markdown,
// so editors that render it show the table and the others still read it as plain text.
import type { ArtifactRef } from '../backends/backend.js';
import { formatBytes } from './format.js';

function fence(text: string, language: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${text}\n${ticks}`;
}

/** The preview's text; the first line is always `ArtifactRef <path>`. */
export function artifactPreview(ref: ArtifactRef, localPath: string): string {
  return [
    `ArtifactRef ${ref.path}`,
    '',
    `- type: \`${ref.type}\``,
    `- size: ${formatBytes(ref.size)} (${ref.size} bytes)`,
    `- sha256: \`${ref.sha256}\` (verified)`,
    `- created: ${ref.created}`,
    `- local: \`${localPath}\``,
    '',
    '## Preview',
    '',
    ...(ref.table ? [ref.table, ''] : []),
    fence(ref.preview, 'python'),
    '',
    '## Load it in Python',
    '',
    fence(['import pickle', `with open(${JSON.stringify(localPath)}, "rb") as f:`, '    value = pickle.load(f)'].join('\n'), 'python'),
    '',
  ].join('\n');
}
