// Markdown as plain text, for clients that ask for plaintext hover (eglot without markdown-mode)
// or show messages verbatim: fences become indented blocks, emphasis and code marks go, tables
// and lists stay as they read. Only the Markdown our own renderers write is handled.

/** The same text without Markdown markup, laid out to read well as it is. */
export function markdownToPlainText(markdown: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const opening = /^(`{3,})\S*\s*$/.exec(line);
    if (fence === undefined && opening) {
      fence = opening[1];
      continue;
    }
    if (fence !== undefined) {
      if (line.trim() === fence) fence = undefined;
      else out.push(`    ${line}`);
      continue;
    }
    out.push(inline(line));
  }
  return out.join('\n');
}

function inline(line: string): string {
  return line
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/(`+)([^`]|[^`].*?[^`])\1(?!`)/g, (_match, _ticks: string, code: string) => code.trim())
    .replace(/\\([\\`*_|])/g, '$1');
}
