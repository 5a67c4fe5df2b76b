// The emulator's runtime profiles over real HTTP: the output cap of each Databricks Runtime line
// (head and tail around the real marker on 16.4, 10 MB on 17), the cluster's `spark_version`, and
// least-recently-used eviction of idle contexts answered with the configured status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_ID, OUTPUT_CAP_MARKER, startEmulator, type Emulator } from './emulator.js';
import { call, createContext, run } from './support.js';

const CLUSTER = DEFAULT_CLUSTER_ID;
// 60,000 characters of numbered lines, printed by one command.
const PRINT_60K = "print(''.join('%09d\\n' % i for i in range(6000)), end='')";
const TEXT_60K = Array.from({ length: 6000 }, (_, i) => String(i).padStart(9, '0') + '\n').join('').slice(0, -1);

describe('runtime 16.4', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ runtime: '16.4' });
  });
  afterAll(() => emulator.stop());

  it('reports spark_version 16.4', async () => {
    expect((await call(emulator, 'GET', `/api/2.1/clusters/get?cluster_id=${CLUSTER}`)).body.spark_version).toBe('16.4.x-scala2.12');
  });

  it('cuts a text result to 50,000 characters: head, the marker, tail', async () => {
    const context = await createContext(emulator, CLUSTER);
    const data = (await run(emulator, CLUSTER, context, PRINT_60K)).results.data as string;
    expect(data.length).toBe(50_000);
    const at = data.indexOf(OUTPUT_CAP_MARKER);
    expect(at).toBeGreaterThan(0);
    const head = data.slice(0, at);
    const tail = data.slice(at + OUTPUT_CAP_MARKER.length);
    expect(TEXT_60K.startsWith(head)).toBe(true);
    expect(TEXT_60K.endsWith(tail)).toBe(true);
    // Mid-line, as on the service: the cut does not care for line ends.
    expect(head.length + tail.length).toBe(50_000 - OUTPUT_CAP_MARKER.length);
  });

  it('swaps sys.stdout per command, and any thread printing during a command lands in its result', async () => {
    const context = await createContext(emulator, CLUSTER);
    await run(emulator, CLUSTER, context, 'import sys, threading\nfirst = sys.stdout');
    expect((await run(emulator, CLUSTER, context, 'sys.stdout is first')).results.data).toMatch(/Out\[\d+\]: False$/);
    const threaded = await run(emulator, CLUSTER, context, 't = threading.Thread(target=lambda: print("from a thread"))\nt.start()\nt.join()');
    expect(threaded.results.data).toBe('from a thread');
  });
});

describe('runtime 17', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ runtime: '17' });
  });
  afterAll(() => emulator.stop());

  it('reports spark_version 17 and keeps a 60,000-character result whole', async () => {
    expect((await call(emulator, 'GET', `/api/2.1/clusters/get?cluster_id=${CLUSTER}`)).body.spark_version).toMatch(/^17\./);
    const context = await createContext(emulator, CLUSTER);
    expect((await run(emulator, CLUSTER, context, PRINT_60K)).results.data).toBe(TEXT_60K);
  });

  it('keeps one sys.stdout for the life of the context', async () => {
    const context = await createContext(emulator, CLUSTER);
    await run(emulator, CLUSTER, context, 'import sys\nfirst = sys.stdout');
    expect((await run(emulator, CLUSTER, context, 'sys.stdout is first')).results.data).toMatch(/Out\[\d+\]: True$/);
  });
});

describe.each([400, 500] as const)('context eviction answered %i', (status) => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ maxContexts: 2, evictedContextStatus: status });
  });
  afterAll(() => emulator.stop());

  it('evicts the least recently used idle context once the cluster holds its limit', async () => {
    const first = await createContext(emulator, CLUSTER);
    const second = await createContext(emulator, CLUSTER);
    // Using the first makes the second the least recently used.
    expect((await run(emulator, CLUSTER, first, '1 + 1')).results.data).toMatch(/2$/);
    const third = await createContext(emulator, CLUSTER);
    expect(emulator.contextIds().sort()).toEqual([first, third].sort());
    const gone = await call(emulator, 'POST', '/api/1.2/commands/execute', { clusterId: CLUSTER, contextId: second, language: 'python', command: '1' });
    expect(gone.status).toBe(status);
    expect(JSON.stringify(gone.body)).toContain(second);
    expect((await run(emulator, CLUSTER, first, '2 + 2')).results.data).toMatch(/4$/);
  });
});
