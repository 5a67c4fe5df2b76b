// Host normalisation as auth-resolution.md states it, one row per rule.
import { describe, expect, it } from 'vitest';
import { isAccountsHost, isAzureHost, normalizeHost } from '../../server/src/config/host.js';

describe('normalizeHost', () => {
  it.each([
    ['no scheme gets https', 'x', 'https://x'],
    ['trailing slash dropped', 'https://adb-1.2.azuredatabricks.net/', 'https://adb-1.2.azuredatabricks.net'],
    ['path dropped', 'https://x.cloud.databricks.com/some/path/', 'https://x.cloud.databricks.com'],
    ['default :443 dropped', 'https://x.cloud.databricks.com:443', 'https://x.cloud.databricks.com'],
    ['default :443 dropped without scheme', 'x.cloud.databricks.com:443/', 'https://x.cloud.databricks.com'],
    ['other port kept', 'https://x:8443/', 'https://x:8443'],
    ['http kept for loopback emulators', 'http://127.0.0.1:8123/', 'http://127.0.0.1:8123'],
    ['http kept as given', 'http://localhost:8080', 'http://localhost:8080'],
    ['fragment and query dropped', 'https://x/#a?b', 'https://x'],
  ])('%s: %s → %s', (_rule, input, host) => {
    expect(normalizeHost(input)).toEqual({ ok: true, host });
  });

  it('turns ?o=<digits> into the workspace id', () => {
    expect(normalizeHost('https://adb-1.2.azuredatabricks.net/?o=1234567890#job/1')).toEqual({
      ok: true,
      host: 'https://adb-1.2.azuredatabricks.net',
      workspaceId: '1234567890',
    });
  });

  it('ignores a non-numeric ?o=', () => {
    expect(normalizeHost('https://x/?o=abc')).toEqual({ ok: true, host: 'https://x' });
  });

  it.each(['https://', '://'])('refuses %j', (input) => {
    expect(normalizeHost(input)).toEqual({ ok: false, error: 'no host configured' });
  });
});

describe('host classification', () => {
  it.each([
    ['https://adb-1.2.azuredatabricks.net', true],
    ['https://adb-1.2.databricks.azure.us', true],
    ['https://adb-1.2.databricks.azure.cn', true],
    ['https://x.cloud.databricks.com', false],
    ['https://azuredatabricks.net.evil.com', false],
  ])('isAzureHost(%s) is %s', (host, azure) => {
    expect(isAzureHost(host)).toBe(azure);
  });

  it.each([
    ['https://accounts.cloud.databricks.com', true],
    ['https://accounts-dod.cloud.databricks.us', true],
    ['https://x.cloud.databricks.com', false],
  ])('isAccountsHost(%s) is %s', (host, accounts) => {
    expect(isAccountsHost(host)).toBe(accounts);
  });
});
