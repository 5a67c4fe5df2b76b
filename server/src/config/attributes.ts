// The Databricks configuration attributes choppa-lsp understands: file key, environment
// variables, editor setting, auth family and sensitivity (databricks-api.md §6.1). The order
// is the Go SDK's declaration order, which is the order of its `. Config: ...` debug suffix.

/** Explicit values from the editor; every one optional, empty strings count as unset. */
export interface DatabricksSettings {
  host?: string | null;
  profile?: string | null;
  configFile?: string | null;
  authType?: string | null;
  clusterId?: string | null;
  serverlessComputeId?: string | null;
  warehouseId?: string | null;
  accountId?: string | null;
  workspaceId?: string | null;
  token?: string | null;
  username?: string | null;
  password?: string | null;
  clientId?: string | null;
  clientSecret?: string | null;
  databricksCliPath?: string | null;
  azureWorkspaceResourceId?: string | null;
  azureTenantId?: string | null;
  azureClientId?: string | null;
  azureClientSecret?: string | null;
}

/** Auth families of the multi-method validation (`validate: more than one ...`). */
export type AuthFamily =
  | 'pat'
  | 'basic'
  | 'oauth'
  | 'azure'
  | 'google'
  | 'metadata-service'
  | 'env-oidc'
  | 'file-oidc';

export interface ConfigAttribute {
  /** The file key and the name used in debug output and `sources`. */
  name: string;
  env: readonly string[];
  setting?: keyof DatabricksSettings;
  family?: AuthFamily;
  sensitive?: boolean;
  /** Left out of the `. Config:` debug suffix, as the Go SDK does for `auth:"-"` fields. */
  internal?: boolean;
  /** Set only when the value parses as true (Go's strconv.ParseBool). */
  bool?: boolean;
  /** Never read from a profile: it chooses the file or the profile itself. */
  notInFile?: boolean;
}

export const ATTRIBUTES: readonly ConfigAttribute[] = [
  { name: 'host', env: ['DATABRICKS_HOST'], setting: 'host' },
  { name: 'cluster_id', env: ['DATABRICKS_CLUSTER_ID'], setting: 'clusterId' },
  { name: 'warehouse_id', env: ['DATABRICKS_WAREHOUSE_ID'], setting: 'warehouseId' },
  { name: 'serverless_compute_id', env: ['DATABRICKS_SERVERLESS_COMPUTE_ID'], setting: 'serverlessComputeId' },
  {
    name: 'metadata_service_url',
    env: ['DATABRICKS_METADATA_SERVICE_URL'],
    family: 'metadata-service',
    sensitive: true,
  },
  { name: 'account_id', env: ['DATABRICKS_ACCOUNT_ID'], setting: 'accountId' },
  { name: 'workspace_id', env: ['DATABRICKS_WORKSPACE_ID'], setting: 'workspaceId' },
  { name: 'token', env: ['DATABRICKS_TOKEN'], setting: 'token', family: 'pat', sensitive: true },
  { name: 'username', env: ['DATABRICKS_USERNAME'], setting: 'username', family: 'basic' },
  { name: 'password', env: ['DATABRICKS_PASSWORD'], setting: 'password', family: 'basic', sensitive: true },
  { name: 'profile', env: ['DATABRICKS_CONFIG_PROFILE'], setting: 'profile', notInFile: true },
  { name: 'config_file', env: ['DATABRICKS_CONFIG_FILE'], setting: 'configFile', notInFile: true },
  { name: 'google_service_account', env: ['DATABRICKS_GOOGLE_SERVICE_ACCOUNT'], family: 'google' },
  { name: 'google_credentials', env: ['GOOGLE_CREDENTIALS'], family: 'google', sensitive: true },
  {
    name: 'azure_workspace_resource_id',
    env: ['DATABRICKS_AZURE_RESOURCE_ID'],
    setting: 'azureWorkspaceResourceId',
    family: 'azure',
  },
  { name: 'azure_use_msi', env: ['ARM_USE_MSI'], family: 'azure', bool: true },
  {
    name: 'azure_client_secret',
    env: ['ARM_CLIENT_SECRET'],
    setting: 'azureClientSecret',
    family: 'azure',
    sensitive: true,
  },
  { name: 'azure_client_id', env: ['ARM_CLIENT_ID'], setting: 'azureClientId', family: 'azure' },
  { name: 'azure_tenant_id', env: ['ARM_TENANT_ID'], setting: 'azureTenantId', family: 'azure' },
  { name: 'azure_environment', env: ['ARM_ENVIRONMENT'] },
  { name: 'azure_login_app_id', env: ['DATABRICKS_AZURE_LOGIN_APP_ID'], family: 'azure' },
  { name: 'client_id', env: ['DATABRICKS_CLIENT_ID'], setting: 'clientId', family: 'oauth' },
  {
    name: 'client_secret',
    env: ['DATABRICKS_CLIENT_SECRET'],
    setting: 'clientSecret',
    family: 'oauth',
    sensitive: true,
  },
  { name: 'scopes', env: [], internal: true },
  { name: 'databricks_cli_path', env: ['DATABRICKS_CLI_PATH'], setting: 'databricksCliPath' },
  { name: 'auth_type', env: ['DATABRICKS_AUTH_TYPE'], setting: 'authType', internal: true },
  { name: 'databricks_id_token_filepath', env: ['DATABRICKS_OIDC_TOKEN_FILEPATH'], family: 'file-oidc' },
  { name: 'oidc_token_env', env: ['DATABRICKS_OIDC_TOKEN_ENV'], family: 'env-oidc' },
];

/** The attribute of this name, if choppa-lsp knows it. */
export function attribute(name: string): ConfigAttribute | undefined {
  return ATTRIBUTES.find((a) => a.name === name);
}

/** True for attributes whose value must never be shown (tokens, secrets, passwords). */
export function isSensitive(name: string): boolean {
  return attribute(name)?.sensitive === true;
}
