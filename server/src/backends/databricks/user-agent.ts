// Builds the User-Agent header in the Databricks SDKs' convention (databricks-api.md §7), so
// that workspace admins see choppa-lsp traffic the way they see the SDKs' and the CLI's.

export interface UserAgentOptions {
  /** choppa-lsp's own version. */
  version: string;
  /** The credential strategy's name (`pat`, `oauth-m2m`, ...), reported as `auth/<name>`. */
  authType: string;
  /** More `key/value` tokens, in order (`cmd/run`, `sdk-feature/command-execution`). */
  extra?: ReadonlyArray<readonly [string, string]>;
  /** Defaults to `process.platform`. */
  platform?: string;
  /** Defaults to `process.versions.node`. */
  nodeVersion?: string;
  /** For CI detection; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

const PRODUCT = 'choppa-lsp';

// py-sdk `useragent.py`: the first matching provider is reported as `cicd/<name>`.
const CI_PROVIDERS: { name: string; matches: (env: Readonly<Record<string, string | undefined>>) => boolean }[] = [
  { name: 'github', matches: (env) => env['GITHUB_ACTIONS'] === 'true' },
  { name: 'gitlab', matches: (env) => env['GITLAB_CI'] === 'true' },
  { name: 'jenkins', matches: (env) => nonEmpty(env['JENKINS_URL']) },
  { name: 'azure-devops', matches: (env) => env['TF_BUILD'] === 'True' },
  { name: 'circle', matches: (env) => env['CIRCLECI'] === 'true' },
  { name: 'travis', matches: (env) => env['TRAVIS'] === 'true' },
  { name: 'bitbucket', matches: (env) => nonEmpty(env['BITBUCKET_BUILD_NUMBER']) },
  {
    name: 'google-cloud-build',
    matches: (env) => ['PROJECT_ID', 'BUILD_ID', 'PROJECT_NUMBER', 'LOCATION'].every((name) => nonEmpty(env[name])),
  },
  { name: 'aws-code-build', matches: (env) => nonEmpty(env['CODEBUILD_BUILD_ARN']) },
  { name: 'tf-cloud', matches: (env) => nonEmpty(env['TFC_RUN_ID']) },
];

/**
 * `choppa-lsp/<version> nodejs/<node> os/<linux|darwin|windows> auth/<type> [extras] [cicd/<ci>]`,
 * the old JS SDK's order without an SDK token (there is no SDK in between). Characters outside
 * `[a-zA-Z0-9_.+-]` become `-`, so any value keeps the header parseable.
 */
export function userAgent(options: UserAgentOptions): string {
  const env = options.env ?? process.env;
  const tokens: [string, string][] = [
    [PRODUCT, options.version],
    ['nodejs', options.nodeVersion ?? process.versions.node],
    ['os', osName(options.platform ?? process.platform)],
    ['auth', options.authType],
    ...(options.extra ?? []).map(([key, value]): [string, string] => [key, value]),
  ];
  const ci = CI_PROVIDERS.find((provider) => provider.matches(env));
  if (ci !== undefined) tokens.push(['cicd', ci.name]);
  return tokens.map(([key, value]) => `${sanitize(key)}/${sanitize(value)}`).join(' ');
}

// py-sdk reports `platform.system().lower()`: linux, darwin, windows.
function osName(platform: string): string {
  return platform === 'win32' ? 'windows' : platform;
}

function sanitize(value: string): string {
  const cleaned = value.replace(/[^a-zA-Z0-9_.+-]/g, '-');
  return cleaned === '' ? 'unknown' : cleaned;
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
