// Normalizes a Databricks host the way the SDKs do before talking to it (auth-resolution.md,
// "Host normalisation"), and classifies the result (Azure, accounts console).

export type NormalizedHost =
  | { ok: true; host: string; workspaceId?: string }
  | { ok: false; error: string };

/**
 * Adds `https://` when there is no scheme, keeps `http://` (loopback emulators rely on it),
 * keeps only scheme, hostname and a non-default port (so a trailing `/`, a path and `:443`
 * go), and turns a numeric `?o=` query into the workspace id.
 */
export function normalizeHost(raw: string): NormalizedHost {
  const withScheme = raw.includes('://') ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { ok: false, error: 'no host configured' };
  }
  if (url.hostname === '') return { ok: false, error: 'no host configured' };
  // URL.host already omits the default port of the scheme (443 for https).
  const host = `${url.protocol}//${url.host}`;
  const org = url.searchParams.get('o');
  return org !== null && /^\d+$/.test(org) ? { ok: true, host, workspaceId: org } : { ok: true, host };
}

const AZURE_SUFFIXES = ['.azuredatabricks.net', '.databricks.azure.us', '.databricks.azure.cn'];

/** True for Azure Databricks workspace hosts (the zones azure-cli auth applies to). */
export function isAzureHost(host: string): boolean {
  const hostname = hostnameOf(host);
  return AZURE_SUFFIXES.some((suffix) => hostname.endsWith(suffix));
}

/** True for the accounts console (`https://accounts.` / `https://accounts-dod.`). */
export function isAccountsHost(host: string): boolean {
  return host.startsWith('https://accounts.') || host.startsWith('https://accounts-dod.');
}

function hostnameOf(host: string): string {
  try {
    return new URL(host.includes('://') ? host : `https://${host}`).hostname;
  } catch {
    return '';
  }
}
