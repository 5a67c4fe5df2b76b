// `pyproject.toml` as TOML: the dependencies a run installs (extras, comments and literal strings
// are where the regexes this replaced went wrong), where the build backends put the packages,
// and the quick fix's edit of `[project] dependencies`, in the file's own layout or not at all.
import { describe, expect, it } from 'vitest';
import { addDependency, declaredPackageRoots, parsePyproject, projectDependencies, type TextInsert } from '../../server/src/workspace-index/pyproject.js';

const dependencies = (text: string): string[] | { failure: string } => projectDependencies(parsePyproject(text));
const roots = (text: string): string[] => declaredPackageRoots(parsePyproject(text));

function edited(text: string, inserts: TextInsert[] | undefined): string | undefined {
  if (!inserts) return undefined;
  let result = text;
  // Two insertions at one offset land in their order, as in an LSP edit.
  const order = inserts.map((insert, index) => ({ insert, index })).sort((a, b) => b.insert.offset - a.insert.offset || b.index - a.index);
  for (const { insert } of order) result = result.slice(0, insert.offset) + insert.text + result.slice(insert.offset);
  return result;
}

describe('[project] dependencies', () => {
  it('keeps extras, which end in a bracket of their own', () => {
    expect(dependencies('[project]\nname = "x"\ndependencies = ["requests[security]>=2", "dask[dataframe,distributed]>=2024.1", "numpy"]\n')).toEqual([
      'requests[security]>=2',
      'dask[dataframe,distributed]>=2024.1',
      'numpy',
    ]);
  });

  it('reads neither quotes nor brackets out of comments, and takes literal strings', () => {
    const text = ['[project]', 'name = "x"', 'dependencies = [', '  "pandas>=2",  # not "polars" [yet]', "  'numpy; python_version >= \"3.9\"',", ']', ''].join('\n');
    expect(dependencies(text)).toEqual(['pandas>=2', 'numpy; python_version >= "3.9"']);
  });

  it('reads only the [project] table', () => {
    const text = '[tool.poetry.dependencies]\npython = "^3.10"\n\n[project]\nname = "x"\ndependencies = ["a"]\n\n[project.optional-dependencies]\ndev = ["pytest"]\n';
    expect(dependencies(text)).toEqual(['a']);
    expect(dependencies('[project]\nname = "x"\n')).toEqual([]);
  });

  it('says where a file is not TOML, rather than reading part of it', () => {
    const result = dependencies('[project]\nname = "x"\ndependencies = [\n  "pandas>=2"\n  "numpy",\n]\n');
    expect(result).toEqual({ failure: expect.stringMatching(/^it is not valid TOML \(line 5, column \d+: .+\)$/) });
  });

  it('refuses a dependency that would smuggle a line into pip, and a list of other things', () => {
    expect(dependencies('[project]\ndependencies = ["a\\n--index-url https://elsewhere.example/simple"]\n')).toEqual({ failure: expect.stringContaining('holds a line break') });
    expect(dependencies('[project]\ndependencies = [1]\n')).toEqual({ failure: expect.stringContaining('other than strings') });
    expect(dependencies('[project]\ndependencies = "a"\n')).toEqual({ failure: expect.stringContaining('is not a list') });
  });
});

describe('declared package roots', () => {
  it('reads each build backend where it declares them', () => {
    expect(roots('[tool.setuptools.packages.find]\nwhere = ["src", "lib"]\n')).toEqual(['src', 'lib']);
    expect(roots("[tool.setuptools]\npackage-dir = {'' = 'src'}\n")).toEqual(['src']);
    expect(roots('[tool.poetry]\npackages = [{ include = "pkg", from = "lib" }, { include = "other" }]\n')).toEqual(['lib']);
    expect(roots('[tool.hatch.build.targets.wheel]\npackages = ["src/pkg"]\n')).toEqual(['src']);
    expect(roots('[tool.hatch.build.targets.wheel.sources]\n"lib" = ""\n')).toEqual(['lib']);
    expect(roots('[tool.pdm.build]\npackage-dir = "src"\n')).toEqual(['src']);
    expect(roots('[tool.maturin]\npython-source = "python"\n')).toEqual(['python']);
    expect(roots('[tool.uv.build-backend]\nmodule-name = "pkg"\n')).toEqual(['src']);
    expect(roots('[tool.uv.build-backend]\nmodule-root = ""\n')).toEqual([]);
  });

  it('takes nothing from other tables, and nothing from a file that is not TOML', () => {
    expect(roots('[tool.other]\nfrom = "nope"\nwhere = ["nope"]\npackages = ["no/pe"]\n')).toEqual([]);
    expect(roots('[tool.setuptools.packages.find]\nwhere = ["src"\n')).toEqual([]);
  });
});

describe('adding a dependency (the missing-import quick fix)', () => {
  it('appends to a one-line list', () => {
    const text = '[project]\nname = "x"\ndependencies = ["a", "b"]\n';
    expect(edited(text, addDependency(text, 'tinypkg'))).toBe('[project]\nname = "x"\ndependencies = ["a", "b", "tinypkg"]\n');
    const empty = '[project]\nname = "x"\ndependencies = []\n';
    expect(edited(empty, addDependency(empty, 'tinypkg'))).toBe('[project]\nname = "x"\ndependencies = ["tinypkg"]\n');
  });

  it('adds a line of its own to a multi-line list, indented as its entries, after a comment', () => {
    const text = '[project]\nname = "x"\ndependencies = [\n    "pandas>=2",  # see [docs] "x"\n    "numpy"\n]\n\n[tool.x]\ny = 1\n';
    expect(edited(text, addDependency(text, 'tinypkg'))).toBe('[project]\nname = "x"\ndependencies = [\n    "pandas>=2",  # see [docs] "x"\n    "numpy",\n    "tinypkg",\n]\n\n[tool.x]\ny = 1\n');
    const trailing = '[project]\r\nname = "x"\r\ndependencies = [\r\n  "a",  # last\r\n]\r\n';
    expect(edited(trailing, addDependency(trailing, 'tinypkg'))).toBe('[project]\r\nname = "x"\r\ndependencies = [\r\n  "a",  # last\r\n  "tinypkg",\r\n]\r\n');
  });

  it('writes a dependencies line into a [project] that has none', () => {
    const text = '[project]\nname = "x"\n\n[tool.x]\ny = 1\n';
    expect(edited(text, addDependency(text, 'tinypkg'))).toBe('[project]\ndependencies = ["tinypkg"]\nname = "x"\n\n[tool.x]\ny = 1\n');
  });

  it('edits nothing it cannot edit safely: dynamic dependencies, an inline table, a file that is not TOML', () => {
    expect(addDependency('[project]\nname = "x"\ndynamic = ["dependencies"]\n', 'tinypkg')).toBeUndefined();
    expect(addDependency('project = { name = "x", dependencies = ["a"] }\n', 'tinypkg')).toBeUndefined();
    expect(addDependency('[project]\ndependencies = ["a"\n', 'tinypkg')).toBeUndefined();
    expect(addDependency('[tool.poetry.dependencies]\npandas = "^2"\n', 'tinypkg')).toBeUndefined();
  });
});
