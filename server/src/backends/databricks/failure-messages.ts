// Turns a failed Databricks call into one sentence a user can act on: what happened while doing
// what, and what to do next. Every failure the Databricks backend reports goes through here, so
// a 401, an unreachable host and an HTML 500 page read alike wherever they surface.
import { CLIENT_ERROR_CODES, type DatabricksApiError } from './api-error.js';

/**
 * Describes `error`, which happened while `doing` (a phrase such as "starting cluster 0123-…"),
 * against the workspace at `host`, whose configuration names `configFile` (the file a credentials
 * problem sends the user to: the one `DATABRICKS_CONFIG_FILE` names, not always
 * `~/.databrickscfg`). The message never contains a credential: the HTTP client has already
 * scrubbed them from `error`.
 */
export function describeApiFailure(error: DatabricksApiError, doing: string, host: string, configFile: string): string {
  const detail = error.message;
  // A valid token without a permission on the object (a cluster one may not attach to) is not a
  // credentials problem: saying "check the token" would send the user the wrong way.
  // (A bad token is a 403 too, `{"error_code": 403, "message": "Invalid access token."}`, which
  // parses as PERMISSION_DENIED: only a message about a permission counts.)
  // Another user's single-user cluster: the message names no permission (`PERMISSION_DENIED:
  // Single-user check failed: user 'a' attempted to run a command on single-user cluster <id>,
  // but the single user of this cluster is 'b'.`), and no grant of Can Attach To helps.
  if (/single-user check failed/i.test(detail)) {
    return `Databricks at ${host} refused ${doing}: the cluster is a single-user cluster of another user (${detail}); pick another cluster (the "Use cluster" code action on the Choppa(...) line lists the ones you may use) or ask a workspace admin to assign it to you`;
  }
  if (error.status === 403 && /\bpermission\b/i.test(detail) && !/\b(access token|credential)/i.test(detail)) {
    return `Databricks at ${host} denied permission while ${doing} (${detail}); ask the cluster's owner or a workspace admin for access (Can Attach To), or pick another cluster`;
  }
  if (error.status === 401 || error.status === 403) {
    return `Databricks at ${host} rejected the credentials while ${doing} (HTTP ${error.status}: ${detail}); check the token or profile (choppa settings, DATABRICKS_TOKEN or ${configFile}) or log in again with \`databricks auth login\``;
  }
  switch (error.errorCode) {
    case CLIENT_ERROR_CODES.network:
      return `cannot reach Databricks at ${host} while ${doing} (${detail}); check the host setting and your network or VPN, then try again`;
    case CLIENT_ERROR_CODES.timeout:
      return `Databricks at ${host} did not answer in time while ${doing} (${detail}); check your network and try again`;
    case CLIENT_ERROR_CODES.credentials:
      return `no usable credentials for ${host} while ${doing}: ${detail}`;
    case CLIENT_ERROR_CODES.insecureTransport:
      return `refusing to send credentials while ${doing}: ${detail}; use an https:// host`;
    case CLIENT_ERROR_CODES.cancelled:
      return `${doing} was cancelled`;
    case CLIENT_ERROR_CODES.redirect:
      return `${detail} (while ${doing}); check the host setting`;
  }
  if (error.status === 429) {
    return `Databricks at ${host} is rate-limiting requests while ${doing} (${detail}); wait a moment and try again`;
  }
  if (error.status >= 500) {
    return `Databricks at ${host} failed while ${doing} (HTTP ${error.status} ${error.errorCode}: ${detail}); this is usually temporary, try again in a moment`;
  }
  if (error.status === 0) return `${detail} (while ${doing})`;
  return `Databricks refused ${doing} (HTTP ${error.status} ${error.errorCode}: ${detail})`;
}

/** Whether the failure is about who we are rather than what we asked (401, 403, no credentials). */
export function isAuthFailure(error: DatabricksApiError): boolean {
  return error.status === 401 || error.status === 403 || error.errorCode === CLIENT_ERROR_CODES.credentials;
}
