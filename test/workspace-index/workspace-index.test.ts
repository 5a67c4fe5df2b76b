// The workspace index on a real multi-package folder: which files it sees, the module names
// Python would give them, Choppa instances and decorated functions found across modules, and a
// folder added again walked again only when its listing changed.
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkspaceIndex } from '../../server/src/workspace-index/workspace-index.js';
import { absoluteModule, moduleNameOf } from '../../server/src/workspace-index/module-names.js';
import { compileQueries } from '../../server/src/syntax/queries.js';
import { loadQuerySources } from '../../server/src/query-files.js';
import { SyntaxDocument } from '../../server/src/syntax/parser.js';
import { tempDir } from '../support/lsp-client.js';
import { writeProject } from '../support/project-fixture.js';

const queries = compileQueries(loadQuerySources());
let root: string;
let index: WorkspaceIndex;

beforeAll(() => {
  root = tempDir();
  writeProject(root);
  index = new WorkspaceIndex({ queries });
  index.addFolder(root);
});

const at = (relative: string): string => join(root, relative);

describe('files and module names', () => {
  it('indexes the project and skips the virtualenv, node_modules and gitignored files', () => {
    expect(index.has(at('analytics/jobs.py'))).toBe(true);
    expect(index.has(at('src/mathlib/core.py'))).toBe(true);
    for (const skipped of ['.venv/lib/site.py', 'node_modules/pkg/thing.py', 'build/lib/analytics/jobs.py', 'analytics/skip.generated.py']) {
      expect(index.has(at(skipped)), skipped).toBe(false);
    }
    expect(index.fileCount).toBe(15);
  });

  it('names modules as Python would, with the src layout as a package root', () => {
    expect(index.moduleOf(at('analytics/__init__.py'))).toBe('analytics');
    expect(index.moduleOf(at('analytics/reports/summary.py'))).toBe('analytics.reports.summary');
    expect(index.moduleOf(at('src/mathlib/core.py'))).toBe('mathlib.core');
    expect(index.pathOfModule('mathlib')).toBe(at('src/mathlib/__init__.py'));
  });

  it('resolves relative imports like Python', () => {
    expect(absoluteModule('analytics.reports.summary', false, 2, 'cluster')).toBe('analytics.cluster');
    expect(absoluteModule('analytics', true, 1, 'cluster')).toBe('analytics.cluster');
    expect(absoluteModule('analytics.jobs', false, 1, '')).toBe('analytics');
    expect(absoluteModule('top', false, 1, 'x')).toBeUndefined();
    expect(moduleNameOf('/p', '/p/a-b/c.py')).toBeUndefined();
  });

  it('names non-ASCII modules as Python does, whatever the normalization of the file name', () => {
    expect(moduleNameOf('/p', '/p/churn/données.py')).toBe('churn.données');
    expect(moduleNameOf('/p', '/p/churn/donne\u0301es.py')).toBe('churn.données');
    expect(moduleNameOf('/p', '/p/東京/特徴.py')).toBe('東京.特徴');
    expect(moduleNameOf('/p', '/p/churn/🚀.py')).toBeUndefined();
  });
});

describe('instances across modules', () => {
  const settings = { clusterId: '0123-456789-abcdefgh', artifactDir: '/Workspace/Shared/analytics', resultSizeMax: 1000000 };

  it('finds `from pkg.mod import dc` and gives its functions every action', () => {
    const analysis = index.analysisOf(at('analytics/jobs.py'));
    expect(analysis?.functions.map((fn) => [fn.name, fn.instance])).toEqual([
      ['plain', 'dc'],
      ['vocabulary', 'dc'],
      ['counted', 'dc'],
    ]);
    expect(analysis?.importedInstances).toEqual([
      { name: 'dc', module: 'analytics.cluster', definedAs: 'dc', path: at('analytics/cluster.py'), line: 2, dynamic: [], ...settings },
    ]);
  });

  it('finds `from ..mod import dc as d`, `import pkg.mod as m` and a re-export from __init__', () => {
    expect(index.analysisOf(at('analytics/reports/summary.py'))?.functions.map((fn) => `${fn.instance}.${fn.name}`)).toEqual(['d.summary']);
    expect(index.analysisOf(at('scripts/aliased.py'))?.functions.map((fn) => `${fn.instance}.${fn.name}`)).toEqual(['m.dc.twice']);
    const reexported = index.analysisOf(at('scripts/reexported.py'));
    expect(reexported?.functions.map((fn) => fn.name)).toEqual(['shout']);
    expect(reexported?.importedInstances[0]).toMatchObject({ name: 'dc', module: 'analytics.cluster', ...settings });
  });

  it('gives call sites of a decorated function of another module, with its instance', () => {
    const analysis = index.analysisOf(at('scripts/calls.py'));
    expect(analysis?.calls.map((call) => `${call.function}(${call.argsSource})`)).toEqual(['plain(6, 7)', 'vocabulary("A b a")']);
    expect(analysis?.importedFunctions.map((fn) => [fn.name, fn.module, fn.fn.source.split('\n')[0], fn.instance?.clusterId])).toEqual([
      ['plain', 'analytics.jobs', 'def plain(a, b):', settings.clusterId],
      ['vocabulary', 'analytics.jobs', 'def vocabulary(text):', settings.clusterId],
    ]);
  });

  it('gives call sites through a module alias, a dotted import and an aliased name', () => {
    const analysis = index.analysisOf(at('scripts/module_calls.py'));
    expect(analysis?.calls.map((call) => `${call.function}(${call.argsSource})`)).toEqual([
      'j.plain(2, 3)',
      'analytics.jobs.plain(4, 5)',
      'p(1, 1)',
      'j.plain(first, 10)',
      'j.vocabulary("B a")',
    ]);
    expect(analysis?.bindings.find((binding) => binding.name === 'first')).toMatchObject({ callOf: 'j.plain', call: { key: '2, 3' } });
  });

  it('says so for instances it cannot follow', () => {
    const problems = index.analysisOf(at('scripts/unfollowed.py'))?.problems ?? [];
    expect(problems.map((problem) => [problem.code, problem.severity, problem.span.start.line])).toEqual([
      ['instance-not-followed', 'information', 4],
      ['instance-not-followed', 'information', 7],
    ]);
    expect(problems[0]?.message).toContain('assigned to `self.c`');
    expect(problems[1]?.message).toContain('created inside `make`');
  });

  it('follows edits on disk and new or deleted files', () => {
    const scratch = tempDir();
    writeProject(scratch);
    const own = new WorkspaceIndex({ queries });
    own.addFolder(scratch);
    const jobs = join(scratch, 'analytics/jobs.py');
    expect(own.analysisOf(jobs)?.importedInstances[0]?.clusterId).toBe('0123-456789-abcdefgh');
    writeFileSync(join(scratch, 'analytics/cluster.py'), 'from choppa import Choppa\n\ndc = Choppa(cluster_id="9999-000000-zzzzzzzz")\n');
    expect(own.analysisOf(jobs)?.importedInstances[0]?.clusterId).toBe('9999-000000-zzzzzzzz');
    rmSync(join(scratch, 'analytics/cluster.py'));
    rmSync(join(scratch, 'analytics/__init__.py'));
    own.filesChanged([{ path: join(scratch, 'analytics/cluster.py'), kind: 'deleted' }, { path: join(scratch, 'analytics/__init__.py'), kind: 'deleted' }]);
    expect(own.analysisOf(jobs)?.functions).toEqual([]);
    writeFileSync(join(scratch, 'analytics/cluster.py'), 'import choppa\n\ndc = choppa.Choppa(cluster_id="1111-000000-aaaaaaaa")\n');
    own.filesChanged([{ path: join(scratch, 'analytics/cluster.py'), kind: 'created' }]);
    expect(own.analysisOf(jobs)?.importedInstances[0]?.clusterId).toBe('1111-000000-aaaaaaaa');
  });

  it('lets an open buffer win over the disk', () => {
    let text = 'from choppa import Choppa\n\ndc = Choppa(cluster_id="open-buffer")\n';
    let version = 1;
    const own = new WorkspaceIndex({
      queries,
      openBuffer: (path) => (path === at('analytics/cluster.py') ? { version: String(version), text, chunks: new SyntaxDocument(text).chunks } : undefined),
    });
    own.addFolder(root);
    expect(own.analysisOf(at('analytics/jobs.py'))?.importedInstances[0]?.clusterId).toBe('open-buffer');
    text = text.replace('open-buffer', 'edited');
    version += 1;
    expect(own.analysisOf(at('analytics/jobs.py'))?.importedInstances[0]?.clusterId).toBe('edited');
  });
});

describe('a folder added again', () => {
  /** Every folder and `.gitignore` of `dir` stamped `seconds` ago: past the racy window. */
  const age = (dir: string, seconds: number): void => {
    const when = Date.now() / 1000 - seconds;
    const visit = (path: string): void => {
      for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) visit(join(path, entry.name));
      if (existsSync(join(path, '.gitignore'))) utimesSync(join(path, '.gitignore'), when, when);
      utimesSync(path, when, when);
    };
    visit(dir);
  };

  it('is not walked again while its listing stands, and is when a file, a folder or a .gitignore changes', () => {
    const folder = tempDir();
    writeProject(folder);
    age(folder, 60);
    const again = new WorkspaceIndex({ queries });
    again.addFolder(folder);
    expect(again.walks).toBe(1);
    again.addFolder(folder);
    again.addFolder(folder);
    expect(again.walks).toBe(1);
    expect(again.fileCount).toBe(15);

    // A new module: its folder's mtime moves, the folder is walked again and the module is known.
    writeFileSync(join(folder, 'analytics', 'added.py'), 'x = 1\n');
    again.addFolder(folder);
    expect(again.walks).toBe(2);
    expect(again.moduleOf(join(folder, 'analytics', 'added.py'))).toBe('analytics.added');
    // Just changed: within the racy window, it is walked every time until it settles.
    again.addFolder(folder);
    expect(again.walks).toBe(3);
    age(folder, 60);
    again.addFolder(folder);
    again.addFolder(folder);
    expect(again.walks).toBe(4);

    // A .gitignore edited (its size and mtime; the folder's own mtime unchanged) hides a module.
    const rootStamp = statSync(folder).mtimeMs;
    writeFileSync(join(folder, '.gitignore'), `${readFileSync(join(folder, '.gitignore'), 'utf8')}\nanalytics/added.py\n`);
    const earlier = Date.now() / 1000 - 30;
    utimesSync(join(folder, '.gitignore'), earlier, earlier);
    expect(statSync(folder).mtimeMs).toBe(rootStamp);
    again.addFolder(folder);
    expect(again.walks).toBe(5);
    expect(again.has(join(folder, 'analytics', 'added.py'))).toBe(false);

    // A file removed deep down, and a new package folder.
    rmSync(join(folder, 'analytics', 'reports', 'summary.py'));
    mkdirSync(join(folder, 'fresh'));
    writeFileSync(join(folder, 'fresh', 'mod.py'), 'y = 2\n');
    age(folder, 10);
    again.addFolder(folder);
    expect(again.walks).toBe(6);
    expect(again.has(join(folder, 'analytics', 'reports', 'summary.py'))).toBe(false);
    expect(again.moduleOf(join(folder, 'fresh', 'mod.py'))).toBe('fresh.mod');
  });
});

describe('a monorepo folder', () => {
  it('names each project its own modules, imports its own first, and another project only when just one has it', () => {
    const folder = tempDir();
    const files: Record<string, string> = {
      'projA/pyproject.toml': '[project]\nname = "alpha"\n',
      'projA/src/alpha/__init__.py': '',
      'projA/src/common.py': '',
      'projA/src/shared.py': '',
      'projB/setup.py': 'from setuptools import setup\nsetup(name="beta")\n',
      'projB/src/beta/__init__.py': '',
      'projB/src/common.py': '',
      'projC/setup.cfg': '[metadata]\nname = gamma\n',
      'projC/shared.py': '',
    };
    for (const [relative, text] of Object.entries(files)) {
      mkdirSync(join(folder, relative, '..'), { recursive: true });
      writeFileSync(join(folder, relative), text);
    }
    const mono = new WorkspaceIndex({ queries });
    mono.addFolder(folder);
    const inA = join(folder, 'projA', 'src', 'alpha', '__init__.py');
    const inB = join(folder, 'projB', 'src', 'beta', '__init__.py');
    expect(mono.moduleOf(join(folder, 'projB', 'src', 'common.py'))).toBe('common');
    expect(mono.pathOfModule('common', inA)).toBe(join(folder, 'projA', 'src', 'common.py'));
    expect(mono.pathOfModule('common', inB)).toBe(join(folder, 'projB', 'src', 'common.py'));
    // A path dependency on another project of the monorepo: the one project that has it.
    expect(mono.pathOfModule('alpha', inB)).toBe(join(folder, 'projA', 'src', 'alpha', '__init__.py'));
    // Two other projects have `shared`: neither is guessed.
    expect(mono.hasModule('shared', inB)).toBe(false);
    expect(mono.pathOfModule('shared', inA)).toBe(join(folder, 'projA', 'src', 'shared.py'));
  });

  it('does not take a module named setup.py for a project of its own', () => {
    const folder = tempDir();
    const files: Record<string, string> = {
      'app/__init__.py': '',
      'app/steps/__init__.py': '',
      'app/steps/setup.py': 'def run():\n    return "set up"\n',
      'app/steps/teardown.py': '',
      'flows/stages/setup.py': 'import os\n',
      'flows/stages/load.py': '',
    };
    for (const [relative, text] of Object.entries(files)) {
      mkdirSync(join(folder, relative, '..'), { recursive: true });
      writeFileSync(join(folder, relative), text);
    }
    const layout = new WorkspaceIndex({ queries });
    layout.addFolder(folder);
    expect(layout.moduleOf(join(folder, 'app', 'steps', 'teardown.py'))).toBe('app.steps.teardown');
    expect(layout.moduleOf(join(folder, 'flows', 'stages', 'load.py'))).toBe('flows.stages.load');
  });
});
