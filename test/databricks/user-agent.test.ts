// The User-Agent in the SDKs' `key/value` convention, CI detection, and the small pure rules
// around it: which hosts may receive credentials over plain http://, and Retry-After parsing.
import { describe, expect, it } from 'vitest';
import { insecureTransportProblem } from '../../server/src/backends/databricks/insecure-transport.js';
import { parseRetryAfter } from '../../server/src/backends/databricks/retry.js';
import { userAgent } from '../../server/src/backends/databricks/user-agent.js';

describe('userAgent', () => {
  it.each([
    [{ version: '0.1.0', authType: 'pat', platform: 'linux', nodeVersion: '20.18.1', env: {} }, 'choppa-lsp/0.1.0 nodejs/20.18.1 os/linux auth/pat'],
    [{ version: '0.1.0', authType: 'databricks-cli', platform: 'win32', nodeVersion: '22.1.0', env: {} }, 'choppa-lsp/0.1.0 nodejs/22.1.0 os/windows auth/databricks-cli'],
    [
      { version: '1.2.3-beta.1', authType: 'oauth-m2m', platform: 'darwin', nodeVersion: '20.0.0', env: { GITHUB_ACTIONS: 'true' }, extra: [['sdk-feature', 'command-execution'], ['editor', 'VS Code 1.90']] as const },
      'choppa-lsp/1.2.3-beta.1 nodejs/20.0.0 os/darwin auth/oauth-m2m sdk-feature/command-execution editor/VS-Code-1.90 cicd/github',
    ],
    [{ version: '0.1.0', authType: '', platform: 'linux', nodeVersion: '20.0.0', env: { TF_BUILD: 'True' } }, 'choppa-lsp/0.1.0 nodejs/20.0.0 os/linux auth/unknown cicd/azure-devops'],
  ])('%j', (options, expected) => {
    expect(userAgent(options)).toBe(expected);
  });

  it('defaults to this process', () => {
    expect(userAgent({ version: '0.1.0', authType: 'pat', env: {} })).toBe(
      `choppa-lsp/0.1.0 nodejs/${process.versions.node} os/${process.platform === 'win32' ? 'windows' : process.platform} auth/pat`,
    );
  });
});

describe('insecureTransportProblem', () => {
  it.each([
    ['https://adb-1.2.azuredatabricks.net', true],
    ['http://127.0.0.1:8080', true],
    ['http://127.1.2.3', true],
    ['http://localhost:3000', true],
    ['http://[::1]:9000', true],
    ['http://adb-1.2.azuredatabricks.net', false],
    ['http://10.0.0.1', false],
    ['http://localhost.example.com', false],
    ['ftp://127.0.0.1', false],
  ])('%s allowed: %s', (url, allowed) => {
    expect(insecureTransportProblem(url) === undefined).toBe(allowed);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['5', 5000],
    ['0', 0],
    ['1.5', 1500],
    ['Thu, 01 Jan 2026 00:00:09 GMT', 9000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s → %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
