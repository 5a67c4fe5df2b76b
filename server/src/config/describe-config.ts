// Renders a resolved (or failed) Databricks configuration for people, in the shape of
// `databricks auth describe`: each value and where it came from. Used by `choppa-lsp config`
// and the configuration hover; it only ever sees redacted values.
import type { ConfigFileStatus, ResolveResult, SourcedValue } from './databricks-config.js';

/** A multi-line summary: host and auth (or the error), the config file, then every value and its source. */
export function describeConfig(result: ResolveResult): string {
  const lines: string[] = [];
  if (result.ok) {
    lines.push(`Host: ${result.config.host}`);
    const fallbacks = result.config.fallbacks.map((f) => f.type);
    lines.push(
      `Authenticated with: ${result.config.auth.type}${fallbacks.length > 0 ? ` (then ${fallbacks.join(', ')})` : ''}`,
    );
  } else {
    lines.push(`Unable to resolve the configuration: ${result.error}`);
  }
  lines.push(`Config file: ${describeFile(result.file)}`);
  lines.push('-----');
  lines.push('Current configuration:');
  for (const [name, sourced] of Object.entries(result.sources)) {
    lines.push(`  ✓ ${name}: ${sourced.value} (${describeSource(sourced)})`);
  }
  return lines.join('\n');
}

/** Profile names listed at most; a file with more says how many it left out. */
const MAX_LISTED_PROFILES = 10;

function describeFile(file: ConfigFileStatus): string {
  const where = file.path === file.resolvedPath ? file.path : `${file.path} (${file.resolvedPath})`;
  switch (file.state) {
    case 'read':
      if (file.profile !== undefined) return `${where}, profile ${file.profile}`;
      // No profile was read: the one asked for is not there, or none was asked for and there is
      // no DEFAULT; either way, the ones it does have are what the user can pick from.
      return `${where}, ${file.missingProfile === undefined ? 'no DEFAULT profile' : `no ${file.missingProfile} profile`}${listProfiles(file.profiles ?? [])}`;
    case 'missing':
      return `${where}, not found`;
    case 'unreadable':
      return `${where}, could not be read (see above)`;
    case 'skipped':
      return `${where}, not read (host or credentials already set and no profile named)`;
  }
}

function listProfiles(profiles: readonly string[]): string {
  if (profiles.length === 0) return ' (it has no profiles)';
  if (profiles.length === 1) return ` (its only profile: ${profiles[0]})`;
  const more = profiles.length - MAX_LISTED_PROFILES;
  return ` (its profiles: ${profiles.slice(0, MAX_LISTED_PROFILES).join(', ')}${more > 0 ? ` and ${more} more` : ''})`;
}

function describeSource(sourced: SourcedValue): string {
  switch (sourced.source) {
    case 'setting':
      return 'from editor settings';
    case 'env':
      return `from ${sourced.env ?? 'an'} environment variable`;
    case 'default':
      return 'default';
    default:
      return `from ${sourced.source}`;
  }
}
