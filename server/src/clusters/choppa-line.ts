// Where the cluster id and artifact dir strings sit in a `Choppa(...)` call's text, and what the
// cursor is completing inside one of them (also while the string is still open). Text in, plain
// positions out; pure.

export type StringKeyword = 'cluster_id' | 'artifact_dir';

export interface Position {
  line: number;
  character: number;
}

/** A keyword's string literal: its value and the range of the characters between the quotes. */
export interface KeywordString {
  keyword: StringKeyword;
  value: string;
  start: Position;
  end: Position;
}

/** Every `cluster_id="..."` / `artifact_dir="..."` string in `lines[from..to]` (a call's lines). */
export function keywordStrings(lines: readonly string[], from: number, to: number): KeywordString[] {
  const found: KeywordString[] = [];
  const pattern = /\b(cluster_id|artifact_dir)\s*=\s*[rRuU]?(["'])([^"'\\\n]*)\2/g;
  for (let line = from; line <= Math.min(to, lines.length - 1); line++) {
    const text = lines[line] ?? '';
    for (const match of text.matchAll(pattern)) {
      const valueStart = (match.index ?? 0) + match[0].length - 1 - (match[3] ?? '').length;
      found.push({
        keyword: match[1] as StringKeyword,
        value: match[3] ?? '',
        start: { line, character: valueStart },
        end: { line, character: valueStart + (match[3] ?? '').length },
      });
    }
  }
  return found;
}

/** What is being completed: the keyword, the text typed so far in the string and where it starts. */
export interface CompletionSite {
  keyword: StringKeyword;
  typed: string;
  /** The first character inside the quotes. */
  start: Position;
  /** Where the string's content ends (the closing quote, or the cursor while it is open). */
  end: Position;
}

/** The string the cursor is in, when it is a `cluster_id=` or `artifact_dir=` string. */
export function completionSite(lineText: string, position: Position): CompletionSite | undefined {
  const before = lineText.slice(0, position.character);
  const match = /\b(cluster_id|artifact_dir)\s*=\s*[rRuU]?(["'])([^"'\\]*)$/.exec(before);
  if (!match) return undefined;
  const typed = match[3] ?? '';
  const after = lineText.slice(position.character);
  const rest = /^[^"'\\]*/.exec(after)?.[0] ?? '';
  const closed = after.charAt(rest.length) === match[2];
  return {
    keyword: match[1] as StringKeyword,
    typed,
    start: { line: position.line, character: position.character - typed.length },
    end: { line: position.line, character: position.character + (closed ? rest.length : 0) },
  };
}

/** The text edit that sets `cluster_id="id"` in a call: replaces the string, or adds the keyword. */
export function clusterIdEdit(lines: readonly string[], callStart: Position, callEnd: Position, clusterId: string): { start: Position; end: Position; newText: string } {
  const existing = keywordStrings(lines, callStart.line, callEnd.line).find((found) => found.keyword === 'cluster_id');
  if (existing) return { start: existing.start, end: existing.end, newText: clusterId };
  // After `Choppa(`: the first argument position, so it reads as the real library's examples do.
  const text = lines[callStart.line] ?? '';
  const open = text.indexOf('(', callStart.character);
  const at = { line: callStart.line, character: open + 1 };
  const empty = callStart.line === callEnd.line && text.slice(open + 1, callEnd.character).trim() === ')';
  return { start: at, end: at, newText: empty ? `cluster_id="${clusterId}"` : `cluster_id="${clusterId}", ` };
}
