// The CLI on a multi-package project, as a user runs it from the project folder: `list` sees the
// instance imported from another module, `bundle` prints what ships with a function, and `run`
// runs it with that code on the local backend.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';
import { writeProject } from '../support/project-fixture.js';

let project: string;

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const result = spawnSync(process.execPath, [SERVER_BIN, ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...clean, DATABRICKS_CONFIG_FILE: join(project, 'none'), HOME: project },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  project = tempDir();
  writeProject(project);
  mkdirSync(join(project, '.git'));
});

describe('the CLI on a project of several modules', () => {
  it('lists functions decorated through an imported instance, with its settings', () => {
    const { code, stdout } = cli('list', 'analytics/jobs.py');
    expect(code).toBe(0);
    expect(stdout).toContain('instance  dc  from analytics.cluster (analytics/cluster.py:3)  cluster_id=0123-456789-abcdefgh');
    expect(stdout).toMatch(/remote\s+vocabulary\(text\)\s+line 8\s+@dc/);
    expect(stdout).not.toContain('no Choppa-decorated functions');
  });

  it('prints what ships with a function, and JSON on request', () => {
    const { code, stdout } = cli('bundle', 'analytics/reports/summary.py:summary');
    expect(code).toBe(0);
    expect(stdout).toContain('Ships with summary: 6 project modules');
    expect(stdout).toContain('- analytics.reports.helpers (analytics/reports/helpers.py, 110 B)');
    const json = JSON.parse(cli('bundle', 'analytics/jobs.py:vocabulary', '--json').stdout) as { hash: string; path: string; files: { module: string }[] };
    expect(json.files.map((file) => file.module).sort()).toEqual(['analytics', 'analytics.cluster', 'analytics.text_tools', 'choppa']);
    expect(json.path).toBe(`/Workspace/Shared/analytics/.choppa/code/${json.hash}.zip`);
    expect(cli('bundle', 'analytics/jobs.py:plain').stdout).toContain('its source only');
  });

  it('runs a function with the project modules it imports', () => {
    const { code, stdout } = cli('run', 'analytics/jobs.py:counted', '--local', '--args', '"A b a"');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^counted\("A b a"\) → 2 · /);
  });
});
