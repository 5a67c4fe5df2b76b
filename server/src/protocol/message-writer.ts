// Writes JSON-RPC messages to the client's byte stream (`Content-Length` framing), each in one
// write as it is sent. The library's stream writer awaits the header's write before the body and
// hands each message to the next through `setImmediate`, so a response queued behind a few
// notifications (progress, logs, diagnostics) waited one event-loop turn for each of them.
import type { Message } from 'vscode-languageserver/node';
import { AbstractMessageWriter } from './lsp-runtime.js';

const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Strings with each lone surrogate replaced by U+FFFD, as a UTF-8 decoder would read it. */
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replace(LONE_SURROGATE, '\uFFFD') : value;
}

export class DirectMessageWriter extends AbstractMessageWriter {
  private errors = 0;
  private closed = false;

  constructor(private readonly output: NodeJS.WritableStream) {
    super();
    output.on('error', (error: Error) => this.fireError(error));
    output.on('close', () => {
      this.closed = true;
      this.fireClose();
    });
  }

  /**
   * Messages reach the stream in the order `write` is called: the body is serialised and written
   * before this returns, and the promise settles when the stream has taken it.
   */
  write(message: Message): Promise<void> {
    let body: string;
    try {
      body = JSON.stringify(message);
      // A lone surrogate (Python's `surrogateescape` of a non-UTF-8 file name, in a run's output
      // or error) comes out as a `\udce9` escape, which strict decoders (Neovim's, serde_json)
      // refuse, dropping the whole message: a run's answer never arrived and every later publish
      // of the file's diagnostics was lost. Escaped surrogates only appear for lone ones.
      if (ESCAPED_SURROGATE.test(body)) body = JSON.stringify(message, wellFormed);
    } catch (error) {
      this.fireError(error as Error);
      return Promise.reject(error as Error);
    }
    if (this.closed) return Promise.reject(new Error('the client closed the connection'));
    const framed = `Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`;
    return new Promise((resolve, reject) => {
      this.output.write(framed, 'utf8', (error) => {
        if (!error) return resolve();
        this.errors += 1;
        this.fireError(error, message, this.errors);
        reject(error);
      });
    });
  }

  end(): void {
    this.output.end();
  }
}
