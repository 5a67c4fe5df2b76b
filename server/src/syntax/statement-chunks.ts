// Cuts Python source into chunks at column-0 lines that start a new top-level statement, with a
// small lexer (strings, brackets, comments, backslash continuations), so each chunk can be parsed
// on its own and a keystroke's parse and error recovery stay within the statement being typed.
// Pure: text in, offsets out.

// A column-0 line starting with one of these continues the statement above it (or is blank or
// a comment, which joins the chunk before it), so it is never a cut. The same rule as
// `analysis/statement-recovery.ts`.
const CONTINUATION = /^(?:else\b|elif\b|except\b|finally\b|case\b|[)\]},.#]|$|\s)/;

// A column-0 line that can only start a statement, even inside an unclosed bracket: an unclosed
// `(` while typing must not glue the rest of the file into one chunk. (Inside a bracket these
// are syntax errors anyway, which the whole-file parse would also stop at.)
const STATEMENT_ONLY = /^(?:def\s|class\s|async\s+def\s|import\s|from\s+[\w.]+\s+import\b|@[A-Za-z_])/;

// A column-0 line that ends an indented docstring (a triple-quoted bare string on an indented
// line): without this, typing `"""` in a function would turn the rest of the file inside out
// (code into strings and strings into code) until the closing quotes are typed. A definition or
// decorator at column 0 inside an indented docstring is rare, and when it is there the cut shows
// (an unterminated string in that function), where a flipped file would lose every function
// after it. Other strings (`doc = """`) are never cut.
const ENDS_INDENTED_STRING = /^(?:def\s+\w|class\s+\w|async\s+def\s|@[A-Za-z_])/;

/**
 * The offsets in `text` at which chunks start, beginning with `from` (a chunk start, or 0), up to
 * the end of the text. `until(offset)` may stop the scan early at a cut: the incremental update
 * stops once the cuts agree with the old ones again (after a cut the lexer state is always clean).
 */
export function chunkStarts(text: string, from = 0, until?: (cut: number) => boolean): number[] {
  const cuts = [from];
  let depth = 0;
  // The open string's quote: `"`, `'`, `"""` or `'''`.
  let quote = '';
  // Whether the open triple-quoted string is an indented docstring.
  let quoteIndented = false;
  let underDecorator = false;
  let continued = false;
  let lineStart = from;
  let firstLine = true;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    if (quote.length === 3 && quoteIndented && ENDS_INDENTED_STRING.test(text.slice(lineStart, Math.min(lineEnd, lineStart + 40)))) {
      quote = '';
      depth = 0;
      continued = false;
    }
    if (!firstLine && quote === '' && !continued) {
      const line = text.slice(lineStart, Math.min(lineEnd, lineStart + 40));
      if (!CONTINUATION.test(line)) {
        const strong = STATEMENT_ONLY.test(line);
        if (depth === 0 || strong) {
          depth = 0;
          if (!underDecorator) {
            if (until?.(lineStart)) return cuts;
            cuts.push(lineStart);
          }
          underDecorator = line.startsWith('@');
        }
      }
    } else if (firstLine) {
      underDecorator = text.startsWith('@', lineStart);
    }
    firstLine = false;
    continued = false;
    // Lex the line: strings, brackets, comments.
    let at = lineStart;
    while (at < lineEnd) {
      const code = text.charCodeAt(at);
      if (quote !== '') {
        if (code === 92 /* \ */) {
          at += 2;
          continue;
        }
        if (quote.length === 3) {
          if (text.startsWith(quote, at)) {
            quote = '';
            at += 3;
            continue;
          }
        } else if (text[at] === quote) {
          quote = '';
        }
        at += 1;
        continue;
      }
      if (code === 35 /* # */) break;
      if (code === 34 /* " */ || code === 39 /* ' */) {
        const q = text[at]!;
        if (text.charCodeAt(at + 1) === code && text.charCodeAt(at + 2) === code) {
          quote = q + q + q;
          quoteIndented = isDocstringStart(text, lineStart, at);
          at += 3;
        } else {
          quote = q;
          at += 1;
        }
        continue;
      }
      if (code === 40 || code === 91 || code === 123) depth += 1;
      else if (code === 41 || code === 93 || code === 125) depth = Math.max(0, depth - 1);
      else if (code === 92 && isLineEndAfter(text, at + 1, lineEnd)) continued = true;
      at += 1;
    }
    // A backslash before the line break inside a string continues a one-quote string too.
    if (quote.length === 1) {
      if (at > lineEnd) continued = true;
      else quote = '';
    }
    lineStart = lineEnd + 1;
  }
  return cuts;
}

// Whether the quotes at `at` open an indented bare string (a docstring): only indentation and a
// string prefix before them on their line.
function isDocstringStart(text: string, lineStart: number, at: number): boolean {
  return /^[ \t]+[rRuUbBfF]{0,2}$/.test(text.slice(lineStart, at));
}

// Whether only `\r` (or nothing) lies between `at` and the line end.
function isLineEndAfter(text: string, at: number, lineEnd: number): boolean {
  return at === lineEnd || (at + 1 === lineEnd && text.charCodeAt(at) === 13);
}
