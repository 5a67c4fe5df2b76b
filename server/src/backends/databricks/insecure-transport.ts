// The one rule about where a credential may travel: over https://, or over plain http:// only
// to this machine (the workspace emulator listens on loopback). Checked before anything is sent.

/** Whether a URL's host is this machine: `localhost`, `127.0.0.0/8` or `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Why credentials must not be sent to this URL, or undefined when they may: only `https:`,
 * or `http:` to a loopback host.
 */
export function insecureTransportProblem(url: string | URL): string | undefined {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return `not a valid URL: ${String(url)}`;
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return undefined;
  return `refusing to send credentials over ${parsed.protocol}// to ${parsed.host}: use https://, or http:// only for a loopback host`;
}
