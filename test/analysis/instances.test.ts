// Choppa instances: every import and alias form, plain and annotated assignments, and the
// constructor constants (cluster_id, artifact_dir, result_size_max and its alias).
import { describe, it, expect } from 'vitest';
import { instanceAt } from '../../server/src/analysis/analyze.js';
import { instanceNamed } from '../../server/src/analysis/instances.js';
import { analyzeText, cursor, showSpan } from './support.js';

function check(snippet: string): string[] {
  return analyzeText(snippet).instances.map((instance) => {
    const { name, nameSpan, callSpan, ...settings } = instance;
    return `${name} ${showSpan(nameSpan)} ${showSpan(callSpan)} ${JSON.stringify(settings)}`;
  });
}

describe('Choppa instances', () => {
  it('bound twice: each decorator gets the one above it, an importer the last; in branches, none runs', () => {
    const twice = analyzeText('from choppa import Choppa\nd = Choppa(artifact_dir="/a")\n@d.remote\ndef f(): pass\nd = Choppa(artifact_dir="/b")\n@d.remote\ndef g(): pass\n');
    const [f, g] = twice.functions;
    expect(instanceNamed(twice.instances, 'd', f!.decoratorSpan.start)?.artifactDir).toBe('/a');
    expect(instanceNamed(twice.instances, 'd', g!.decoratorSpan.start)?.artifactDir).toBe('/b');
    expect(instanceNamed(twice.instances, 'd')?.artifactDir).toBe('/b');
    const branches = analyzeText('from choppa import Choppa\nif X:\n    d = Choppa()\nelse:\n    d = Choppa()\n@d.remote\ndef f(): pass\n');
    expect(branches.functions).toEqual([]);
    expect(branches.problems.map((p) => `${p.code} ${showSpan(p.span)}`)).toEqual(['instance-ambiguous 6:4-6:5']);
  });

  it('from choppa import Choppa', () => {
    expect(check('from choppa import Choppa\ndutch = Choppa(cluster_id="0123-x")\n')).toMatchInlineSnapshot(`
      [
        "dutch 1:0-1:5 1:8-1:35 {"dynamic":[],"clusterId":"0123-x"}",
      ]
    `);
  });

  it('aliased class, module import, aliased module, annotated assignment', () => {
    expect(
      check(`from choppa import Choppa as C
import choppa
import choppa as ch
a = C()
b = choppa.Choppa(artifact_dir="/Volumes/x")
c: Choppa = ch.Choppa(result_size_max=None)
`),
    ).toMatchInlineSnapshot(`
      [
        "a 3:0-3:1 3:4-3:7 {"dynamic":[]}",
        "b 4:0-4:1 4:4-4:44 {"dynamic":[],"artifactDir":"/Volumes/x"}",
        "c 5:0-5:1 5:12-5:43 {"dynamic":[],"resultSizeMax":null}",
      ]
    `);
  });

  it('a Choppa call not imported from choppa is not an instance', () => {
    expect(check('from other import Choppa\nd = Choppa()\nimport other as ch\ne = ch.Choppa()\nf = Choppa\n')).toMatchInlineSnapshot(`[]`);
  });

  it('only module level', () => {
    expect(check('from choppa import Choppa\ndef f():\n    d = Choppa()\nclass K:\n    e = Choppa()\nif True:\n    g = Choppa()\n')).toMatchInlineSnapshot(`
      [
        "g 6:4-6:5 6:8-6:16 {"dynamic":[]}",
      ]
    `);
  });

  it('constant folding of constructor arguments', () => {
    expect(
      check(`from choppa import Choppa
a = Choppa(cluster_id="01" "23", artifact_dir='/Volumes/' + "x", result_size_max=2**10)
b = Choppa(max_result_size=10 * 1024 * 1024, cluster_id=r"a\\b", artifact_dir=None)
c = Choppa(result_size_max=1_000, cluster_id="tab\\tx")
d = Choppa(result_size_max=(1 + 2) * 3 // 2, cluster_id=f"plain")
e = Choppa(result_size_max=0x10 - -1)
`),
    ).toMatchInlineSnapshot(`
      [
        "a 1:0-1:1 1:4-1:87 {"dynamic":[],"clusterId":"0123","artifactDir":"/Volumes/x","resultSizeMax":1024}",
        "b 2:0-2:1 2:4-2:82 {"dynamic":[],"resultSizeMax":10485760,"clusterId":"a\\\\b","artifactDir":null}",
        "c 3:0-3:1 3:4-3:54 {"dynamic":[],"resultSizeMax":1000,"clusterId":"tab\\tx"}",
        "d 4:0-4:1 4:4-4:65 {"dynamic":[],"resultSizeMax":4,"clusterId":"plain"}",
        "e 5:0-5:1 5:4-5:37 {"dynamic":[],"resultSizeMax":17}",
      ]
    `);
  });

  it('non-constant arguments are dynamic', () => {
    expect(
      check(`from choppa import Choppa
import os
a = Choppa(cluster_id=os.environ["C"], artifact_dir=f"/x/{user}", result_size_max=LIMIT, other=1)
b = Choppa(cluster_id=3, result_size_max="big")
`),
    ).toMatchInlineSnapshot(`
      [
        "a 2:0-2:1 2:4-2:97 {"dynamic":["cluster_id","artifact_dir","result_size_max"]}",
        "b 3:0-3:1 3:4-3:47 {"dynamic":["cluster_id","result_size_max"]}",
      ]
    `);
  });

  it('instanceAt finds the instance from its name to the end of the call', () => {
    const at = (snippet: string): string | undefined => {
      const { text, pos } = cursor(snippet);
      return instanceAt(analyzeText(text), pos)?.name;
    };
    expect(at('from choppa import Choppa\ndu$0tch = Choppa()\n')).toBe('dutch');
    expect(at('from choppa import Choppa\ndutch = Choppa(cluster_id="x"$0)\n')).toBe('dutch');
    expect(at('from choppa import Choppa\ndutch = Choppa()\n$0x = 1\n')).toBeUndefined();
  });
});
