// Keeps secrets out of everything choppa-lsp prints about its configuration: error strings,
// `sources`, `describeConfig` output. Invariant: a sensitive value is only ever shown as `***`.
import { isSensitive } from './attributes.js';

/** What a secret looks like wherever it is shown, as in the SDKs' debug output. */
export const REDACTED = '***';

/** The value as it may be shown: `***` for sensitive attributes, a host without userinfo. */
export function redactValue(name: string, value: string): string {
  if (isSensitive(name)) return REDACTED;
  if (name === 'host') return redactUserinfo(value);
  return value;
}

/** Replaces `user:password@` in a URL-ish string, which a pasted host may carry. */
export function redactUserinfo(url: string): string {
  return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)?[^/?#@]*@/, (_match, scheme: string | undefined) => `${scheme ?? ''}${REDACTED}@`);
}

/**
 * A credential that prints as `***` everywhere (JSON, `util.inspect`, template strings, test
 * snapshots) and yields its value only through `reveal()`, at the one place that sends it.
 * A class because the value must live in a private field that no serializer can see.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The credential itself; call it only where it goes on the wire. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
