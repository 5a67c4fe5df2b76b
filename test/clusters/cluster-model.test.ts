// The pure parts of the cluster in the editor: runtime → Python, the attach check, ordering, the
// problems of a Choppa line, the strings of a call, the completion site and the "Use cluster" edit.
import { describe, expect, it } from 'vitest';
import { clusterIdEdit, completionSite, keywordStrings } from '../../server/src/clusters/choppa-line.js';
import { mayAttach, runtimePython, sortClusters, type ClusterSnapshot } from '../../server/src/clusters/cluster-info.js';
import { clusterProblems } from '../../server/src/clusters/cluster-problems.js';

describe('cluster facts', () => {
  it('knows the Python of each runtime line', () => {
    expect(['12.2.x-scala2.12', '13.3.x-scala2.12', '14.3.x-gpu-ml-scala2.12', '15.4.x-scala2.12', '16.4.x-scala2.12', '17.3.x-scala2.13', 'custom:foo'].map(runtimePython)).toEqual([
      '3.9', '3.10', '3.10', '3.11', '3.12', '3.12', undefined,
    ]);
  });

  it('lets only its user attach to a single-user cluster, anyone to a shared one, and says when it cannot tell', () => {
    expect(mayAttach({ cluster_id: 'a', data_security_mode: 'SINGLE_USER', single_user_name: 'Me@x.com' }, 'me@x.com')).toBe(true);
    expect(mayAttach({ cluster_id: 'a', data_security_mode: 'SINGLE_USER', single_user_name: 'you@x.com' }, 'me@x.com')).toBe(false);
    expect(mayAttach({ cluster_id: 'a', data_security_mode: 'USER_ISOLATION' }, 'me@x.com')).toBe(true);
    expect(mayAttach({ cluster_id: 'a', data_security_mode: 'SINGLE_USER', single_user_name: 'you@x.com' }, undefined)).toBeUndefined();
  });

  it('orders running, then starting, then stopped clusters, by name within each', () => {
    const order = sortClusters([
      { cluster_id: '1', cluster_name: 'zed', state: 'TERMINATED' },
      { cluster_id: '2', cluster_name: 'bob', state: 'PENDING' },
      { cluster_id: '3', cluster_name: 'max', state: 'RUNNING' },
      { cluster_id: '4', cluster_name: 'amy', state: 'RESIZING' },
      { cluster_id: '5', cluster_name: 'ann', state: 'RUNNING' },
    ]).map((cluster) => cluster.cluster_name);
    expect(order).toEqual(['ann', 'max', 'amy', 'bob', 'zed']);
  });
});

describe('cluster problems of a Choppa line', () => {
  const snapshot: ClusterSnapshot = {
    userName: 'me@x.com',
    fetchedAt: 0,
    clusters: [
      { cluster_id: 'old', cluster_name: 'old', state: 'RUNNING', spark_version: '13.3.x-scala2.12' },
      { cluster_id: 'off', state: 'TERMINATED', state_message: 'Inactive', spark_version: '16.4.x-scala2.12' },
      { cluster_id: 'theirs', state: 'RUNNING', data_security_mode: 'SINGLE_USER', single_user_name: 'you@x.com', spark_version: '16.4.x-scala2.12' },
    ],
  };
  const codes = (id: string, autoStart = true, localPython: string | null = '3.12') =>
    clusterProblems(id, snapshot, { autoStart, localPython: localPython ?? undefined }).map((problem) => `${problem.code}:${problem.severity}`);

  it('finds each problem with its severity', () => {
    expect(codes('nope')).toEqual(['cluster-unknown:error']);
    expect(clusterProblems('nope', { ...snapshot, complete: false }, { autoStart: true, localPython: '3.12' })).toEqual([]);
    expect(codes('theirs')).toEqual(['cluster-not-attachable:error']);
    expect(codes('off')).toEqual(['cluster-terminated:information']);
    expect(codes('off', false)).toEqual(['cluster-terminated:warning']);
    expect(codes('old')).toEqual(['cluster-python-older:warning']);
    expect(codes('old', true, '3.10')).toEqual([]);
    expect(codes('old', true, null)).toEqual([]);
  });
});

describe('the strings of a Choppa call', () => {
  it('finds cluster_id and artifact_dir strings with the range inside the quotes', () => {
    const lines = ["dutch = Choppa(cluster_id='0101-a', artifact_dir=\"/Volumes/x\")"];
    expect(keywordStrings(lines, 0, 0)).toEqual([
      { keyword: 'cluster_id', value: '0101-a', start: { line: 0, character: 27 }, end: { line: 0, character: 33 } },
      { keyword: 'artifact_dir', value: '/Volumes/x', start: { line: 0, character: 50 }, end: { line: 0, character: 60 } },
    ]);
  });

  it('knows what is being completed, in a closed or a still open string', () => {
    expect(completionSite('x = Choppa(cluster_id="01")', { line: 3, character: 24 })).toEqual({
      keyword: 'cluster_id', typed: '0', start: { line: 3, character: 23 }, end: { line: 3, character: 25 },
    });
    expect(completionSite('x = Choppa(artifact_dir="/Volumes/ma', { line: 0, character: 36 })).toMatchObject({ keyword: 'artifact_dir', typed: '/Volumes/ma', end: { character: 36 } });
    expect(completionSite('x = Choppa(result_size_max="', { line: 0, character: 28 })).toBeUndefined();
    expect(completionSite('x = Choppa(cluster_id="a", b', { line: 0, character: 28 })).toBeUndefined();
  });

  it('"Use cluster" replaces the id, or adds cluster_id first, keeping the rest of the call', () => {
    const apply = (line: string, end: number): string => {
      const edit = clusterIdEdit([line], { line: 0, character: 8 }, { line: 0, character: end }, 'NEW');
      return line.slice(0, edit.start.character) + edit.newText + line.slice(edit.end.character);
    };
    expect(apply('dutch = Choppa(cluster_id="old", result_size_max=9)', 51)).toBe('dutch = Choppa(cluster_id="NEW", result_size_max=9)');
    expect(apply('dutch = Choppa(result_size_max=9)', 33)).toBe('dutch = Choppa(cluster_id="NEW", result_size_max=9)');
    expect(apply('dutch = Choppa()', 16)).toBe('dutch = Choppa(cluster_id="NEW")');
  });
});
