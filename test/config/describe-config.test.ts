// The `databricks auth describe`-style summary: every value with its source, secrets as ***.
import { describe, expect, it } from 'vitest';
import { type DatabricksSettings, resolveConfig } from '../../server/src/config/databricks-config.js';
import { describeConfig } from '../../server/src/config/describe-config.js';

function check(settings: DatabricksSettings, env: Record<string, string>, files: Record<string, string> = {}): string {
  return describeConfig(resolveConfig({ settings, env, readFile: (path) => files[path], homeDir: '/home/u' }));
}

describe('describeConfig', () => {
  it('names each source', () => {
    expect(
      check({ clusterId: '0123-abc' }, { DATABRICKS_CONFIG_PROFILE: 'work' }, {
        '/home/u/.databrickscfg': '[work]\nhost = https://w.cloud.databricks.com/\ntoken = dapi-secret\n',
      }),
    ).toMatchInlineSnapshot(`
      "Host: https://w.cloud.databricks.com
      Authenticated with: pat
      Config file: ~/.databrickscfg (/home/u/.databrickscfg), profile work
      -----
      Current configuration:
        ✓ host: https://w.cloud.databricks.com (from config file ~/.databrickscfg profile work)
        ✓ cluster_id: 0123-abc (from editor settings)
        ✓ token: *** (from config file ~/.databrickscfg profile work)
        ✓ profile: work (from DATABRICKS_CONFIG_PROFILE environment variable)
        ✓ config_file: ~/.databrickscfg (default)
        ✓ auth_type: pat (default)"
    `);
  });

  it('shows the error and what was set when resolution fails', () => {
    expect(check({}, { DATABRICKS_HOST: 'x', DATABRICKS_TOKEN: 'dapi-secret', DATABRICKS_PASSWORD: 'pw' }))
      .toMatchInlineSnapshot(`
      "Unable to resolve the configuration: validate: more than one authorization method configured: basic and pat. Config: host=x, token=***, password=***. Env: DATABRICKS_HOST, DATABRICKS_TOKEN, DATABRICKS_PASSWORD
      Config file: ~/.databrickscfg (/home/u/.databrickscfg), not read (host or credentials already set and no profile named)
      -----
      Current configuration:
        ✓ host: x (from DATABRICKS_HOST environment variable)
        ✓ token: *** (from DATABRICKS_TOKEN environment variable)
        ✓ password: *** (from DATABRICKS_PASSWORD environment variable)
        ✓ config_file: ~/.databrickscfg (default)"
    `);
  });

  it('says when the file is missing', () => {
    expect(check({}, { DATABRICKS_CONFIG_FILE: '/etc/dbcfg' })).toContain('Config file: /etc/dbcfg, not found');
  });
});
