// The sentence a user reads for a refused call: the three 403s a run can meet on a cluster
// (another user's single-user cluster, a shared cluster without Can Attach To, a bad token)
// each point somewhere different, and only the last one at the token.
import { describe, expect, it } from 'vitest';
import { describeApiFailure } from '../../server/src/backends/databricks/failure-messages.js';

const HOST = 'https://example.cloud.databricks.com';
const CONFIG_FILE = '~/.databrickscfg';
const refused = (message: string) => ({ status: 403, errorCode: 'PERMISSION_DENIED', message, retryable: false });

describe('describeApiFailure on a 403', () => {
  it("says another user's single-user cluster is theirs and to pick another, not to check the token", () => {
    const text = describeApiFailure(
      refused("PERMISSION_DENIED: Single-user check failed: user 'me@x.com' attempted to run a command on single-user cluster 0101-a, but the single user of this cluster is 'you@x.com'."),
      'creating an execution context on cluster 0101-a',
      HOST,
      CONFIG_FILE,
    );
    expect(text).toContain('refused creating an execution context on cluster 0101-a: the cluster is a single-user cluster of another user');
    expect(text).toContain("the single user of this cluster is 'you@x.com'");
    expect(text).toContain('pick another cluster');
    expect(text).not.toMatch(/token|credentials|Can Attach To/);
  });

  it('asks for Can Attach To on a shared cluster the user has no permission on', () => {
    const text = describeApiFailure(refused('PERMISSION_DENIED: You do not have permission to attach to cluster 0101-a'), 'creating an execution context on cluster 0101-a', HOST, CONFIG_FILE);
    expect(text).toContain('denied permission');
    expect(text).toContain('Can Attach To');
    expect(text).not.toMatch(/token|credentials/);
  });

  it('points at the token when the token is what was refused, and at the config file the configuration names', () => {
    expect(describeApiFailure(refused('Invalid access token.'), 'listing clusters', HOST, CONFIG_FILE)).toContain('rejected the credentials');
    expect(describeApiFailure(refused('Invalid access token.'), 'listing clusters', HOST, '/etc/team.databrickscfg')).toContain('DATABRICKS_TOKEN or /etc/team.databrickscfg)');
  });
});
