// Keeps credentials out of everything the Databricks client returns or logs, even when a
// server or a proxy echoes the request back (a 401 page quoting the Authorization header).
// Invariant: text leaves the client only after `scrubSecrets` with the credentials it sent.
import { REDACTED } from '../../config/redact.js';

// Shorter strings would blank out ordinary words when scrubbing.
const MIN_SECRET_LENGTH = 4;

/**
 * Every form in which the credentials of these headers could be echoed: the whole header
 * value, the part after the scheme (`Bearer <token>`), and for Basic the decoded
 * `user:password` and the password alone.
 */
export function secretsInHeaders(headers: Readonly<Record<string, string>>): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'authorization' && !lower.includes('token')) continue;
    secrets.push(value);
    const match = /^(\S+)\s+(.+)$/.exec(value);
    if (match === null) continue;
    const [, scheme, credential] = match as unknown as [string, string, string];
    secrets.push(credential);
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credential, 'base64').toString('utf8');
      secrets.push(decoded);
      const colon = decoded.indexOf(':');
      if (colon !== -1) secrets.push(decoded.slice(colon + 1));
    }
  }
  return secrets;
}

/** Replaces each secret (longest first, so a token inside a header value goes too) with `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  // Most text holds none: no sorting or copying then.
  if (!secrets.some((secret) => secret.length >= MIN_SECRET_LENGTH && text.includes(secret))) return text;
  let scrubbed = text;
  const ordered = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of ordered) scrubbed = scrubbed.split(secret).join(REDACTED);
  return scrubbed;
}
