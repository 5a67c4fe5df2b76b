// A multi-package Python project written into a folder for the index, bundle and protocol tests:
// the Choppa instance in one module, decorated functions in others, relative imports, a `src/`
// layout, a re-export through `__init__.py`, a module alias, a call site in another file, and
// folders the index must skip (a virtualenv, node_modules, a gitignored build folder).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const PROJECT_FILES: Record<string, string> = {
  'pyproject.toml': '[project]\nname = "analytics"\n\n[tool.setuptools.packages.find]\nwhere = ["src", "."]\n',
  '.gitignore': 'build/\n*.generated.py\n',
  // The library itself, vendored: `analytics/__init__.py` imports the instance, so any shipped
  // `analytics` module needs `choppa` importable where it runs (it ships as project code here).
  'choppa/__init__.py': [
    'class Choppa:',
    '    def __init__(self, **settings):',
    '        self.settings = settings',
    '',
    '    def remote(self, function):',
    '        return function',
    '',
    '    artifact = submit = remote',
    '',
  ].join('\n'),
  'analytics/__init__.py': '"""Analytics: the instance is re-exported here."""\nfrom .cluster import dc\n',
  'analytics/cluster.py': [
    'from choppa import Choppa',
    '',
    'dc = Choppa(cluster_id="0123-456789-abcdefgh", artifact_dir="/Workspace/Shared/analytics", result_size_max=1000000)',
    '',
  ].join('\n'),
  'analytics/text_tools.py': ['def normalise(word):', '    return word.strip().lower()', ''].join('\n'),
  'analytics/jobs.py': [
    'from analytics.cluster import dc',
    '',
    '@dc.remote',
    'def plain(a, b):',
    '    return a * b',
    '',
    '@dc.remote',
    'def vocabulary(text):',
    '    from analytics.text_tools import normalise',
    '    return sorted({normalise(word) for word in text.split()})',
    '',
    '@dc.remote',
    'def counted(text):',
    '    from .text_tools import normalise',
    '    return len({normalise(word) for word in text.split()})',
    '',
  ].join('\n'),
  'analytics/reports/__init__.py': '',
  'analytics/reports/helpers.py': [
    'from ..text_tools import normalise',
    '',
    'FACTOR = 3',
    '',
    'def scale(n):',
    '    return n * FACTOR + len(normalise("  Ab "))',
    '',
  ].join('\n'),
  'analytics/reports/summary.py': [
    'from ..cluster import dc as d',
    '',
    '@d.remote',
    'def summary(n):',
    '    from analytics.reports.helpers import scale',
    '    return scale(n)',
    '',
  ].join('\n'),
  'src/mathlib/__init__.py': 'from .core import double\n',
  'src/mathlib/core.py': ['def double(x):', '    return 2 * x', ''].join('\n'),
  'scripts/aliased.py': [
    'import analytics.cluster as m',
    '',
    '@m.dc.remote',
    'def twice(x):',
    '    import mathlib',
    '    return mathlib.double(x)',
    '',
  ].join('\n'),
  'scripts/reexported.py': [
    'from analytics import dc',
    '',
    '@dc.remote',
    'def shout(word):',
    '    from analytics import text_tools',
    '    return text_tools.normalise(word).upper()',
    '',
  ].join('\n'),
  'scripts/calls.py': ['from analytics.jobs import plain, vocabulary', '', 'product = plain(6, 7)', 'words = vocabulary("A b a")', ''].join('\n'),
  'scripts/module_calls.py': [
    'import analytics.jobs as j',
    'import analytics.jobs',
    'from analytics.jobs import plain as p',
    '',
    'first = j.plain(2, 3)',
    'second = analytics.jobs.plain(4, 5)',
    'third = p(1, 1)',
    'chained = j.plain(first, 10)',
    'words = j . vocabulary("B a")',
    'rows = j.plain.__doc__.split()',
    '',
  ].join('\n'),
  'scripts/unfollowed.py': [
    'from choppa import Choppa',
    '',
    'class Holder:',
    '    def __init__(self):',
    '        self.c = Choppa()',
    '',
    'def make():',
    '    inner = Choppa()',
    '    return inner',
    '',
  ].join('\n'),
  '.venv/pyvenv.cfg': 'home = /usr/bin\n',
  '.venv/lib/site.py': 'x = 1\n',
  'node_modules/pkg/thing.py': 'x = 1\n',
  'build/lib/analytics/jobs.py': 'x = 1\n',
  'analytics/skip.generated.py': 'x = 1\n',
};

/** Writes the project into `root` (extra files override or add). */
export function writeProject(root: string, extra: Record<string, string> = {}): void {
  for (const [relative, text] of Object.entries({ ...PROJECT_FILES, ...extra })) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}
