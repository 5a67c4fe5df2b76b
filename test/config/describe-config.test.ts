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

  const many = Array.from({ length: 12 }, (_, i) => `[p${i + 1}]\nhost = https://p${i + 1}.cloud.databricks.com\n`).join('');
  it.each<[string, Record<string, string>, string, string]>([
    [
      'a named profile the file does not have, with the ones it has',
      { DATABRICKS_CONFIG_PROFILE: 'nosuch' },
      '[DEFAULT]\nhost = https://d.cloud.databricks.com\ntoken = dapi-x\n[dev]\nhost = https://v.cloud.databricks.com\n',
      'no nosuch profile (its profiles: DEFAULT, dev)',
    ],
    [
      'the profile [__settings__] default_profile names, missing',
      {},
      '[__settings__]\ndefault_profile = gone\n[dev]\nhost = https://v.cloud.databricks.com\n',
      'no gone profile (its only profile: dev)',
    ],
    ['no DEFAULT when none was named', {}, '[dev]\nhost = https://v.cloud.databricks.com\n', 'no DEFAULT profile (its only profile: dev)'],
    ['empty sections are no profiles', { DATABRICKS_CONFIG_PROFILE: 'dev' }, '[DEFAULT]\n[dev]\n', 'no dev profile (it has no profiles)'],
    ['at most ten names', { DATABRICKS_CONFIG_PROFILE: 'nosuch' }, many, 'no nosuch profile (its profiles: p1, p2, p3, p4, p5, p6, p7, p8, p9, p10 and 2 more)'],
    ['a file that does not parse', {}, '[DEFAULT\nhost = x\n', 'could not be read (see above)'],
  ])('says which profile it read, or why none: %s', (_case, env, text, expected) => {
    const line = check({}, env, { '/home/u/.databrickscfg': text }).split('\n').find((candidate) => candidate.startsWith('Config file:'));
    expect(line).toBe(`Config file: ~/.databrickscfg (/home/u/.databrickscfg), ${expected}`);
  });
});
