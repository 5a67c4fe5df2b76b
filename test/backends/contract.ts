// The behaviour every backend owes the engine, as vitest tests any backend registers by calling
// `describeBackendContract`: the local python3 backend now, the Databricks backend against the
// emulator. The cases use only the `Backend` interface, never a backend's internals, plus an
// optional count of the runs a backend really started, for the idempotency case.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { omittedLine, OUTPUT_TAIL_CHARS } from '../../server/src/backends/output-tail.js';
import type {
  ArtifactRef,
  Backend,
  RunOptions,
  RunOutcome,
  RunPayload,
  SubmitRequest,
  SubmittedHandle,
  SubmittedStatus,
} from '../../server/src/backends/backend.js';
import { zipArchive } from '../../server/src/bundle/zip-archive.js';
import { formatBytes } from '../../server/src/engine/format.js';

export interface BackendUnderTest {
  backend: Backend;
  cleanup: () => Promise<void>;
  /** How many submitted runs the backend has really started (processes, job runs) so far. */
  countSubmittedRuns?: () => Promise<number>;
  /** The REPL under the backend swaps `sys.stdout` per command (the emulator's 16.4 profile). */
  swapsStdout?: boolean;
}

/** A payload with a fresh run id; `source` is a function named `f` unless `function_name` says otherwise. */
export function payload(overrides: Partial<RunPayload> & Pick<RunPayload, 'source'>): RunPayload {
  return {
    run_id: `t-${randomUUID()}`,
    mode: 'remote',
    function_name: 'f',
    args_source: '',
    args_refs: {},
    result_size_max: null,
    artifact_dir: '/Workspace/Shared/choppa-contract',
    ...overrides,
  };
}

/** A code bundle of the given files, at its content-hashed path under the contract's artifact dir. */
export function codeBundle(files: Record<string, string>): { path: string; hash: string; zip: Buffer; value: string } {
  const zip = zipArchive(Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) })));
  const hash = createHash('sha256').update(zip).digest('hex');
  const value = /"([^"]*)"/.exec(Object.values(files)[0] ?? '')?.[1] ?? '';
  return { path: `/Workspace/Shared/choppa-contract/.choppa/code/${hash}.zip`, hash, zip, value };
}

/** Python source from lines, so tests read like the function they ship. */
export function py(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

export function expectValue(outcome: RunOutcome) {
  if (outcome.status !== 'ok' || !('value' in outcome)) {
    throw new Error(`expected a value, got ${JSON.stringify(outcome, null, 2)}`);
  }
  return outcome.value;
}

export function expectRef(outcome: RunOutcome): ArtifactRef {
  if (outcome.status !== 'ok' || !('ref' in outcome)) {
    throw new Error(`expected a ref, got ${JSON.stringify(outcome, null, 2)}`);
  }
  return outcome.ref;
}

export function expectError(outcome: RunOutcome) {
  if (outcome.status !== 'error') throw new Error(`expected an error, got ${JSON.stringify(outcome, null, 2)}`);
  return outcome.error;
}

/** Runs a payload while recording what `onOutput` delivered. */
export async function runRecording(backend: Backend, body: RunPayload, options: RunOptions = {}) {
  const streamed = { stdout: '', stderr: '' };
  const outcome = await backend.run(body, {
    ...options,
    onOutput: (stream, text) => {
      streamed[stream] += text;
      options.onOutput?.(stream, text);
    },
  });
  return { outcome, streamed };
}

/** A submit request in artifact mode with a fresh idempotency token. */
export function submitRequest(overrides: Partial<RunPayload> & Pick<RunPayload, 'source'>, request: Partial<SubmitRequest> = {}): SubmitRequest {
  return { payload: payload({ mode: 'artifact', ...overrides }), idempotencyToken: `tok-${randomUUID()}`, compute: 'cluster', ...request };
}

/** Submits, failing the test when the backend returns a failure instead of a handle. */
export async function submitOk(backend: Backend, request: SubmitRequest): Promise<SubmittedHandle> {
  const handle = await backend.submit(request);
  if ('failure' in handle) throw new Error(`submit failed: ${handle.failure}`);
  return handle;
}

const ENDED = ['succeeded', 'failed', 'cancelled'];

/** Polls `submittedStatus` until `until` holds (by default: the run ended), as the engine does. */
export async function waitSubmitted(
  backend: Backend,
  handle: SubmittedHandle,
  until: (status: SubmittedStatus) => boolean = (status) => ENDED.includes(status.state),
  timeoutMs = 25_000,
): Promise<SubmittedStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await backend.submittedStatus(handle);
    if ('failure' in status) throw new Error(`submittedStatus failed: ${status.failure}`);
    if (until(status)) return status;
    if (Date.now() > deadline) throw new Error(`submitted run ${handle.runId} is still ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Registers the contract tests for one backend. `makeBackend` is called once for the suite;
 * the backend stays warm across cases, as it does in the server.
 */
export function describeBackendContract(name: string, makeBackend: () => Promise<BackendUnderTest>): void {
  describe(`backend contract: ${name}`, () => {
    let subject: BackendUnderTest;
    let scratch: string;
    const backend = () => subject.backend;

    beforeAll(async () => {
      subject = await makeBackend();
      scratch = await mkdtemp(join(tmpdir(), 'choppa-contract-'));
    });
    afterAll(async () => {
      await subject?.cleanup();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('returns an int with its repr, type, size and JSON', async () => {
      const outcome = await backend().run(payload({ source: py('def f(a, b):', '    return a + b'), args_source: '1, 2' }));
      const value = expectValue(outcome);
      expect(value).toMatchObject({ repr: '3', type: 'int', json: 3 });
      expect(value.size).toBeGreaterThan(0);
      expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('returns a dict as JSON and a qualified type name', async () => {
      const value = expectValue(
        await backend().run(
          payload({
            source: py(
              'def f():',
              '    import collections',
              "    return {'a': [1, 2.5, None, True], 'b': {'c': 'd'}}, collections.OrderedDict(x=1)",
            ),
          }),
        ),
      );
      expect(value.type).toBe('tuple');
      expect(value.json).toEqual([{ a: [1, 2.5, null, true], b: { c: 'd' } }, { x: 1 }]);
      const ordered = expectValue(
        await backend().run(payload({ source: py('def f():', '    import collections', '    return collections.OrderedDict(x=1)') })),
      );
      expect(ordered.type).toBe('collections.OrderedDict');
    });

    it('returns a picklable value that is not JSON with its repr, and its pickle when small', async () => {
      const value = expectValue(
        await backend().run(payload({ source: py('def f():', '    import fractions', '    return fractions.Fraction(1, 3)') })),
      );
      expect(value.repr).toBe('Fraction(1, 3)');
      expect(value.type).toBe('fractions.Fraction');
      expect(value.json).toBeUndefined();
      expect(typeof value.pickle).toBe('string');
    });

    it('keeps no pickle with a value over 16 KB (it stays in the warm process only)', async () => {
      const value = expectValue(await backend().run(payload({ source: py('def f():', "    return 'x' * 40000") })));
      expect(value.size).toBeGreaterThan(16 * 1024);
      expect(value.pickle).toBeUndefined();
    });

    it('passes a pickled value and a module literal by value', async () => {
      const first = expectValue(await backend().run(payload({ source: py('def f():', "    return {'rows': [1, 2, 3]}") })));
      const value = expectValue(
        await backend().run(
          payload({
            source: py('def f(data, regions):', "    return [len(data['rows']), regions]"),
            args_source: 'data, regions',
            args_values: { data: first.pickle! },
            args_literals: { regions: "['emea', 'amer', 'apac']" },
          }),
        ),
      );
      expect(value.json).toEqual([3, ['emea', 'amer', 'apac']]);
    });

    it.each([
      ['a generator', py('def f():', '    for i in range(3):', '        yield i'), 3],
      ['a class defined inside the function', py('def f():', '    class Point:', '        pass', '    x = 1', '    return Point()'), 5],
      ['a lock, as an artifact', py('def f():', '    import threading', '    return threading.Lock()'), 3],
    ])('reports %s as an error at the line that returned it, not as a result', async (_what, source, line) => {
      const error = expectError(await backend().run(payload({ source, ...(line === 3 && source.includes('Lock') ? { mode: 'artifact' as const } : {}) })));
      expect(error.type).toBe('ChoppaPicklingError');
      expect(error.message).toContain('cannot be pickled');
      expect(error.frames.at(-1)?.line).toBe(line);
    });

    it('captures stdout and stderr, streamed and in the outcome', async () => {
      const { outcome, streamed } = await runRecording(
        backend(),
        payload({
          source: py('def f():', '    import sys', "    print('to out')", "    print('to err', file=sys.stderr)", '    return None'),
        }),
      );
      expect(expectValue(outcome)).toMatchObject({ repr: 'None', type: 'NoneType', json: null });
      expect(outcome.stdout).toBe('to out\n');
      expect(outcome.stderr).toBe('to err\n');
      expect(streamed).toEqual({ stdout: 'to out\n', stderr: 'to err\n' });
    });

    it('captures what a run prints to sys.stderr after its first command has ended (a REPL that swaps the streams restored them by then)', async () => {
      const { outcome } = await runRecording(
        backend(),
        payload({
          source: py('def f():', '    import sys, time', '    time.sleep(0.3)', "    print('late out')", "    print('late err', file=sys.stderr)", "    print('late out too', file=sys.stdout)", '    return None'),
        }),
      );
      expect(expectValue(outcome)).toMatchObject({ repr: 'None' });
      expect(outcome.stdout).toBe('late out\nlate out too\n');
      expect(outcome.stderr).toBe('late err\n');
    });

    it('delivers large output whole to listeners, across several polls, and keeps a bounded tail in the outcome', async () => {
      const { outcome, streamed } = await runRecording(
        backend(),
        payload({ source: py('def f(n):', '    for i in range(n):', "        print(str(i).rjust(199, '.'))"), args_source: '3000' }),
      );
      const expected = Array.from({ length: 3000 }, (_, i) => String(i).padStart(199, '.') + '\n').join('');
      expect(streamed.stdout).toBe(expected);
      expect(outcome.stdout).toBe(omittedLine(expected.length - OUTPUT_TAIL_CHARS) + expected.slice(-OUTPUT_TAIL_CHARS));
    });

    it('returns 60 KB of prints and a 59 KB list whole, under a 50,000-character output cap', async () => {
      const { outcome, streamed } = await runRecording(
        backend(),
        payload({
          source: py('def f(steps, n):', '    for step in range(steps):', "        print(f'step {step:5d} loss {step * 7919 % 100000:6d} lr 0.001 batch 64')", '    return list(range(n))'),
          args_source: '1500, 10000',
        }),
      );
      const expected = Array.from({ length: 1500 }, (_, step) => `step ${String(step).padStart(5)} loss ${String((step * 7919) % 100000).padStart(6)} lr 0.001 batch 64\n`).join('');
      expect(expected.length).toBeGreaterThan(50_000);
      // As Python's json.dumps writes it (`[0, 1, ...]`): 58,890 characters.
      expect(`[${Array.from({ length: 10000 }, (_, i) => i).join(', ')}]`.length).toBeGreaterThan(50_000);
      expect(streamed.stdout).toBe(expected);
      expect(outcome.stdout).toBe(expected);
      const value = expectValue(outcome);
      expect(value.json).toEqual(Array.from({ length: 10000 }, (_, i) => i));
      expect(value.type).toBe('list');
    });

    it('returns a 5 MB value as a ref whose bytes verify, and as a preview without result_size_max', async () => {
      const source = py('def f(n):', "    return 'x' * n");
      const ref = expectRef(await backend().run(payload({ source, args_source: String(5 * 1024 * 1024), result_size_max: 1024 * 1024 })));
      expect(ref.size).toBeGreaterThan(5 * 1024 * 1024);
      const destination = join(scratch, 'five.pkl');
      expect(await backend().fetchArtifact(ref.path, destination)).toEqual({ size: ref.size, sha256: ref.sha256 });
      const value = expectValue(await backend().run(payload({ source, args_source: String(5 * 1024 * 1024) })));
      expect(value.size).toBeGreaterThan(5 * 1024 * 1024);
      expect(value.repr.length).toBeLessThanOrEqual(2000);
      expect(value.json).toBeUndefined();
    });

    it('keeps a line printed between two polls, in order, in the streamed output and the outcome', async () => {
      // After the gate, the function waits (up to 1 s) until no runner command is running: on a
      // REPL that swaps sys.stdout per command the Router is then not installed, and what the
      // worker prints must still reach the run. It returns whether it printed in such a gap.
      const gate = join(tmpdir(), `choppa-gate-${randomUUID()}`);
      const { outcome, streamed } = await runRecording(
        backend(),
        payload({
          source: py(
            'def f(gate):',
            '    import os, sys, time',
            "    print('first line', flush=True)",
            '    while not os.path.exists(gate):',
            '        time.sleep(0.005)',
            '    deadline = time.time() + 1',
            "    while type(sys.stdout).__name__ == 'Router' and time.time() < deadline:",
            '        time.sleep(0.001)',
            "    between = type(sys.stdout).__name__ != 'Router'",
            "    print('second line')",
            '    return between',
          ),
          args_source: JSON.stringify(gate),
        }),
        {
          onOutput: (_stream, text) => {
            if (text.includes('first line')) writeFileSync(gate, 'go');
          },
        },
      );
      const between = expectValue(outcome).json;
      if (subject.swapsStdout) expect(between).toBe(true);
      expect(streamed.stdout).toBe('first line\nsecond line\n');
      expect(outcome.stdout).toBe('first line\nsecond line\n');
    });

    it('returns a ref over result_size_max, readable and fetchable', async () => {
      const outcome = await backend().run(
        payload({ source: py('def f(n):', "    return 'x' * n"), args_source: '5000', result_size_max: 1000 }),
      );
      const ref = expectRef(outcome);
      expect(ref.path).toMatch(/^\/Workspace\/Shared\/choppa-contract\/f-t-[0-9a-f-]+\.pkl$/);
      expect(ref.size).toBeGreaterThan(5000);
      expect(ref.type).toBe('str');
      expect(ref.preview.startsWith("'xxx")).toBe(true);
      expect(Number.isNaN(Date.parse(ref.created))).toBe(false);
      expect(await backend().readArtifactMetadata(ref.path)).toEqual(ref);
      const destination = join(scratch, 'fetched.pkl');
      const messages: string[] = [];
      const fetched = await backend().fetchArtifact(ref.path, destination, { onProgress: (report) => messages.push(report.message) });
      expect(fetched).toEqual({ size: ref.size, sha256: ref.sha256 });
      // Progress says how much came in, of how much, in the one size format.
      for (const message of messages) expect(message).toMatch(new RegExp(`^downloading ${ref.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\([\\d.]+ (B|KB|MB|GB) of ${formatBytes(ref.size).replace('.', '\\.')}\\)$`));
      const bytes = await readFile(destination);
      expect(bytes.length).toBe(ref.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
    });

    it('returns the value when it fits under result_size_max', async () => {
      const value = expectValue(
        await backend().run(payload({ source: py('def f():', "    return 'small'"), result_size_max: 1000 })),
      );
      expect(value.json).toBe('small');
    });

    it('always returns a ref in artifact mode', async () => {
      const ref = expectRef(await backend().run(payload({ mode: 'artifact', source: py('def f():', '    return 7') })));
      expect(ref.type).toBe('int');
      expect(ref.preview).toBe('7');
    });

    it.each(['/Workspace/Shared/choppa/ws', '/Volumes/main/default/vol/choppa', 'dbfs:/tmp/choppa/dbfs'])(
      'stores artifacts under %s',
      async (dir) => {
        const ref = expectRef(
          await backend().run(payload({ mode: 'artifact', artifact_dir: dir, source: py('def f():', "    return {'k': 1}") })),
        );
        expect(ref.path.startsWith(`${dir}/f-`)).toBe(true);
        expect(ref.path.endsWith('.pkl')).toBe(true);
        expect(await backend().readArtifactMetadata(ref.path)).toEqual(ref);
      },
    );

    it('refuses an artifact_dir that is relative or climbs out', async () => {
      for (const dir of ['relative/dir', '/Workspace/../etc']) {
        const error = expectError(await backend().run(payload({ mode: 'artifact', artifact_dir: dir, source: py('def f():', '    return 1') })));
        expect(error.message).toContain(dir);
      }
    });

    it('reports a remote error at the raising lines, keeping earlier output', async () => {
      const outcome = await backend().run(
        payload({
          source: py(
            'def f(n):',
            "    print('before')",
            '    def helper(k):',
            '        return 1 / k',
            '    return helper(n)',
          ),
          args_source: '0',
        }),
      );
      const error = expectError(outcome);
      expect(error).toMatchObject({ type: 'ZeroDivisionError', message: 'division by zero', origin: 'remote' });
      expect(error.frames).toEqual([
        { line: 5, function: 'f', text: 'return helper(n)' },
        { line: 4, function: 'helper', text: 'return 1 / k' },
      ]);
      expect(error.traceback).toContain('ZeroDivisionError');
      expect(outcome.stdout).toBe('before\n');
    });

    it('bounds a 10 MB exception message: head and tail around what was left out', async () => {
      const started = Date.now();
      const error = expectError(
        await backend().run(payload({ source: py('def f(n):', "    raise ValueError('a' + 'x' * n + 'z')"), args_source: String(10 * 1024 * 1024) })),
      );
      expect(error.type).toBe('ValueError');
      expect(error.message.length).toBeLessThan(70 * 1024);
      expect(error.message.startsWith('axxx')).toBe(true);
      expect(error.message.endsWith('xxz')).toBe(true);
      expect(error.message).toMatch(/\[\.\.\. \d+ characters omitted \.\.\.\]/);
      expect(error.traceback!.length).toBeLessThan(70 * 1024);
      expect(error.frames).toEqual([{ line: 2, function: 'f', text: "raise ValueError('a' + 'x' * n + 'z')" }]);
      // Generous: the point is seconds, not the 45 s a whole 10 MB message took.
      expect(Date.now() - started).toBeLessThan(20_000);
    });

    it('keeps the outermost and innermost 50 frames of a deep recursion, with a count of the rest', async () => {
      const error = expectError(
        await backend().run(
          payload({
            source: py('def f(n):', '    import sys', '    sys.setrecursionlimit(6000)', '    def down(k):', "        if k == 0:", "            raise RuntimeError('bottom')", '        return down(k - 1)', '    return down(n)'),
            args_source: '5000',
          }),
        ),
      );
      expect(error).toMatchObject({ type: 'RuntimeError', message: 'bottom' });
      // f, then 5,001 frames of down: 100 kept, 4,902 left out.
      expect(error.frames).toHaveLength(100);
      expect(error.framesOmitted).toBe(4902);
      expect(error.frames[0]).toEqual({ line: 8, function: 'f', text: 'return down(n)' });
      expect(error.frames.at(-1)).toEqual({ line: 6, function: 'down', text: "raise RuntimeError('bottom')" });
      expect(error.traceback).toContain('outer frames omitted');
      expect(error.traceback!.length).toBeLessThan(70 * 1024);
    });

    it('reports a syntax error in the source with its line', async () => {
      const error = expectError(await backend().run(payload({ source: py('def f():', '    return (1 +', '') })));
      expect(error.type).toBe('SyntaxError');
      expect(error.frames).toHaveLength(1);
      expect(error.frames[0]?.line).toBeGreaterThanOrEqual(2);
    });

    it('loads a {path} ref where the function runs', async () => {
      const ref = expectRef(
        await backend().run(payload({ mode: 'artifact', source: py('def make():', '    return list(range(100000))'), function_name: 'make' })),
      );
      const value = expectValue(
        await backend().run(
          payload({
            source: py('def f(data, extra):', '    return [type(data).__name__, len(data), sum(data) + extra]'),
            args_source: 'data, extra=1',
            args_refs: { data: { path: ref.path } },
          }),
        ),
      );
      expect(value.json).toEqual(['list', 100000, 4999950000 + 1]);
    });

    it('passes a {run_id} value held from an earlier run', async () => {
      const first = payload({ source: py('def f():', "    return {'rows': list(range(10))}") });
      expectValue(await backend().run(first));
      const value = expectValue(
        await backend().run(
          payload({
            source: py('def g(x):', "    return sum(x['rows'])"),
            function_name: 'g',
            args_source: 'x',
            args_refs: { x: { run_id: first.run_id } },
          }),
        ),
      );
      expect(value.json).toBe(45);
    });

    it('says to run again when a {run_id} value is gone', async () => {
      const error = expectError(
        await backend().run(
          payload({ source: py('def f(x):', '    return x'), args_source: 'x', args_refs: { x: { run_id: 'never-ran' } } }),
        ),
      );
      expect(error.message).toContain('never-ran');
      expect(error.message).toContain('again');
    });

    it.each(['foo(1)', 'x', '[1, y]', '1), __import__("os").getcwd(', '__import__("os")'])(
      'refuses the non-literal argument %s',
      async (args) => {
        const error = expectError(
          await backend().run(payload({ source: py('def f(*a):', "    raise RuntimeError('must not run')"), args_source: args })),
        );
        expect(error.type).toBe('ChoppaArgumentError');
        expect(error.message).not.toContain('must not run');
      },
    );

    it('names the refused argument', async () => {
      const error = expectError(
        await backend().run(payload({ source: py('def f(a, b):', '    return a'), args_source: '1, b=foo(1)' })),
      );
      expect(error.message).toBe(
        'argument `foo(1)` is not a literal, arithmetic on literals, or the result of an earlier remote call; only functions and their arguments reach the cluster: write the value itself, or compute it inside the function',
      );
    });

    it('computes arithmetic on literals in Python, arguments and module constants alike (10 / 5 is 2.0)', async () => {
      const value = expectValue(
        await backend().run(
          payload({
            source: py('def f(*args, **kwargs):', '    return repr((args, sorted(kwargs.items())))'),
            args_source: "2 * 60, 10**6, 1 / 5, 7.5 // 2, -(3 - 5), 1 << 4, 'ab' * 2, [1 / 2, (2**3,)], half, t=HOURS",
            args_literals: { half: '10 / 5', HOURS: '24 * 3600' },
          }),
        ),
      );
      expect(value.json).toBe("((120, 1000000, 0.2, 3.0, 2, 16, 'abab', [0.5, (8,)], 2.0), [('t', 86400)])");
    });

    it.each([
      ['2**10**9', 'is too large a value to pass as an argument'],
      ["'x' * 10**12", 'is too large a value to pass as an argument'],
      ["'%0999999999d' % 1", 'formats a string'],
      ['1 / 0', 'cannot be computed (ZeroDivisionError'],
    ])('refuses %s before computing it, and says why', async (args, why) => {
      const error = expectError(await backend().run(payload({ source: py('def f(a):', "    raise RuntimeError('must not run')"), args_source: args })));
      expect(error.type).toBe('ChoppaArgumentError');
      expect(error.message).toContain(why);
    });

    it('accepts literal arguments: kwargs, negatives, nested containers, splats', async () => {
      const value = expectValue(
        await backend().run(
          payload({
            source: py('def f(*args, **kwargs):', '    return repr((args, sorted(kwargs.items())))'),
            args_source: "1, -2, [3, (4, -5.5)], {'a': {6}}, *[7, 8], k=1+2j, flag=True, **{'z': None}",
          }),
        ),
      );
      expect(value.json).toBe("((1, -2, [3, (4, -5.5)], {'a': {6}}, 7, 8), [('flag', True), ('k', (1+2j)), ('z', None)])");
    });

    it('does not evaluate annotations', async () => {
      const value = expectValue(
        await backend().run(
          payload({ source: py('def f(x: UndefinedType = 1) -> list[Row]:', '    y: AlsoUndefined = x + 1', '    return y'), args_source: '' }),
        ),
      );
      expect(value.json).toBe(2);
    });

    it('sees Databricks notebook globals only when they exist, and no module globals', async () => {
      const value = expectValue(
        await backend().run(payload({ source: py('def f():', "    return sorted(k for k in globals() if not k.startswith('__'))") })),
      );
      const names = value.json as string[];
      expect(names).toContain('f');
      expect(names.filter((n) => !['f', 'spark', 'sc', 'sqlContext', 'dbutils', 'display', 'displayHTML', 'table', 'sql', 'udf', 'getArgument'].includes(n))).toEqual([]);
    });

    it('cancels a running function, and the next run succeeds', async () => {
      const controller = new AbortController();
      const outcome = await backend().run(
        payload({ source: py('def f():', '    import time', "    print('started', flush=True)", '    while True:', '        time.sleep(0.01)') }),
        {
          signal: controller.signal,
          onOutput: (_stream, text) => {
            if (text.includes('started')) controller.abort();
          },
        },
      );
      expect(outcome.status).toBe('cancelled');
      expect(outcome.stdout).toContain('started');
      expect(expectValue(await backend().run(payload({ source: py('def f():', '    return 1') }))).json).toBe(1);
    });

    it('returns cancelled at once for an already aborted signal', async () => {
      const outcome = await backend().run(payload({ source: py('def f():', '    return 1') }), { signal: AbortSignal.abort() });
      expect(outcome.status).toBe('cancelled');
    });

    it('streams output while the run is still running', async () => {
      // The function waits for a file the test writes only once it has seen the first line, so
      // this passes only if output arrives before the run ends.
      const gate = join(tmpdir(), `choppa-gate-${randomUUID()}`);
      const outcome = await backend().run(
        payload({
          source: py('def f(gate):', '    import os, time', "    print('first line', flush=True)", '    while not os.path.exists(gate):', '        time.sleep(0.01)', "    print('after the gate')", '    return 7'),
          args_source: JSON.stringify(gate),
        }),
        {
          onOutput: (_stream, text) => {
            if (text.includes('first line')) writeFileSync(gate, 'go');
          },
        },
      );
      expect(expectValue(outcome).json).toBe(7);
      expect(outcome.stdout).toBe('first line\nafter the gate\n');
    });

    it('runs two functions concurrently', async () => {
      // Each run marks that it started and waits for the other's mark, so they pass only if both
      // run at once. The marks are files: the two runs may land in different processes (Dask).
      const token = join(tmpdir(), `choppa-barrier-${randomUUID()}`);
      const source = py(
        'def f(token, result, other):',
        '    import os, time',
        "    open(token + '-' + result, 'w').close()",
        '    deadline = time.time() + 20',
        "    while not os.path.exists(token + '-' + other):",
        '        if time.time() > deadline:',
        "            raise TimeoutError('the other run never started')",
        '        time.sleep(0.01)',
        '    return result',
      );
      const [a, b] = await Promise.all([
        backend().run(payload({ source, args_source: `${JSON.stringify(token)}, 'a', 'b'` })),
        backend().run(payload({ source, args_source: `${JSON.stringify(token)}, 'b', 'a'` })),
      ]);
      await rm(`${token}-a`, { force: true });
      await rm(`${token}-b`, { force: true });
      expect(expectValue(a!).json).toBe('a');
      expect(expectValue(b!).json).toBe('b');
    });

    it('reports progress with the latest output line', async () => {
      const messages: string[] = [];
      await backend().run(payload({ source: py('def f():', "    print('step one')", '    return 1') }), {
        onProgress: (report) => messages.push(report.message),
      });
      expect(messages).toContain('step one');
    });

    it('submits a run that ends with a ref whose sidecar and bytes verify', async () => {
      const handle = await submitOk(
        backend(),
        submitRequest({ source: py('def f(n):', "    print('working on', n)", '    return list(range(n))'), args_source: '1000' }),
      );
      // The engine stores the handle in state.json: it must survive JSON.
      expect(JSON.parse(JSON.stringify(handle))).toEqual(handle);
      const status = await waitSubmitted(backend(), handle);
      expect(status.state, JSON.stringify(status)).toBe('succeeded');
      const ref = status.ref!;
      expect(ref.path).toMatch(/^\/Workspace\/Shared\/choppa-contract\/f-t-[0-9a-f-]+\.pkl$/);
      expect(ref.type).toBe('list');
      expect(status.logs).toContain('working on 1000');
      expect(await backend().readArtifactMetadata(ref.path)).toEqual(ref);
      const destination = join(scratch, 'submitted.pkl');
      expect(await backend().fetchArtifact(ref.path, destination)).toEqual({ size: ref.size, sha256: ref.sha256 });
      expect(createHash('sha256').update(await readFile(destination)).digest('hex')).toBe(ref.sha256);
    });

    it('reports a submitted function that raises as failed, with frames at the raising lines', async () => {
      const handle = await submitOk(
        backend(),
        submitRequest({
          source: py('def f(n):', "    print('before')", '    def helper(k):', '        return 1 / k', '    return helper(n)'),
          args_source: '0',
        }),
      );
      const status = await waitSubmitted(backend(), handle);
      expect(status.state).toBe('failed');
      expect(status.error).toMatchObject({ type: 'ZeroDivisionError', message: 'division by zero', origin: 'remote' });
      expect(status.error?.frames).toEqual([
        { line: 5, function: 'f', text: 'return helper(n)' },
        { line: 4, function: 'helper', text: 'return 1 / k' },
      ]);
      expect(status.logs).toContain('before');
    });

    it('cancels a long submitted run', async () => {
      const handle = await submitOk(
        backend(),
        submitRequest({ source: py('def f():', '    import time', "    print('started', flush=True)", '    while True:', '        time.sleep(0.05)') }),
      );
      await waitSubmitted(backend(), handle, (status) => status.state === 'running');
      expect(await backend().cancelSubmitted(handle)).toEqual({ cancelled: true });
      const status = await waitSubmitted(backend(), handle);
      expect(status.state).toBe('cancelled');
      expect(status.ref).toBeUndefined();
    });

    it('returns the same run for the same idempotency token, started once', async () => {
      const before = await subject.countSubmittedRuns?.();
      const request = submitRequest({ source: py('def f():', '    return 42') });
      const first = await submitOk(backend(), request);
      const second = await submitOk(backend(), request);
      expect(second.runId).toBe(first.runId);
      if (before !== undefined) expect(await subject.countSubmittedRuns!()).toBe(before + 1);
      const status = await waitSubmitted(backend(), second);
      expect(status.state).toBe('succeeded');
      expect(status.ref?.preview).toBe('42');
    });

    it('ships a code bundle once per hash, and runs import from it', async () => {
      const code = codeBundle({ 'shipped_mod/__init__.py': `VALUE = ${JSON.stringify(randomUUID())}\n` });
      expect(await backend().shipCode(code)).toEqual({ uploaded: true });
      expect(await backend().shipCode(code)).toEqual({ uploaded: false });
      const source = py('def f():', '    import shipped_mod', '    return shipped_mod.VALUE');
      const outcome = await backend().run(payload({ source, bundle: { path: code.path, hash: code.hash, modules: ['shipped_mod'] } }));
      expect(expectValue(outcome).json).toBe(code.value);
    });

    it('runs each version of the code with its own modules, also concurrently', async () => {
      const older = codeBundle({ 'versioned_mod.py': 'import time\nVERSION = "old"\n' });
      const newer = codeBundle({ 'versioned_mod.py': 'VERSION = "new"\n' });
      for (const code of [older, newer]) expect(await backend().shipCode(code)).not.toHaveProperty('failure');
      const source = py('def f(pause):', '    import time, versioned_mod', '    time.sleep(pause)', '    import versioned_mod as again', '    return [versioned_mod.VERSION, again.VERSION]');
      const bundle = (code: typeof older) => ({ path: code.path, hash: code.hash, modules: ['versioned_mod'] });
      const [slow, fast] = await Promise.all([
        backend().run(payload({ source, args_source: '0.6', bundle: bundle(older) })),
        new Promise((resolve) => setTimeout(resolve, 150)).then(() => backend().run(payload({ source, args_source: '0', bundle: bundle(newer) }))),
      ]);
      expect(expectValue(slow!).json).toEqual(['old', 'old']);
      expect(expectValue(fast!).json).toEqual(['new', 'new']);
      const back = await backend().run(payload({ source, args_source: '0', bundle: bundle(older) }));
      expect(expectValue(back).json).toEqual(['old', 'old']);
    });

    it('says which imports it lacks, judged where runs happen', async () => {
      expect(await backend().missingImports(['json', 'choppa_surely_missing_module', 'os'])).toEqual(['choppa_surely_missing_module']);
      expect(await backend().missingImports([])).toEqual([]);
    });

    it('refuses a bundle whose bytes do not match its hash', async () => {
      const code = codeBundle({ 'tampered_mod.py': 'X = 1\n' });
      const other = codeBundle({ 'tampered_mod.py': 'X = 2\n' });
      expect(await backend().shipCode({ ...other, path: code.path })).not.toHaveProperty('failure');
      const source = py('def f():', '    import tampered_mod', '    return tampered_mod.X');
      const error = expectError(await backend().run(payload({ source, bundle: { path: code.path, hash: code.hash, modules: ['tampered_mod'] } })));
      expect(error.type).toBe('ChoppaCodeError');
      expect(error.message).toContain('does not match its hash');
    });

    it('fails readArtifactMetadata and fetchArtifact for a missing or outside path', async () => {
      for (const path of ['/Workspace/Shared/choppa-contract/missing.pkl', '/Workspace/../../etc/passwd', 'relative.pkl']) {
        expect(await backend().readArtifactMetadata(path)).toHaveProperty('failure');
        expect(await backend().fetchArtifact(path, join(scratch, 'never.pkl'))).toHaveProperty('failure');
      }
    });
  });
}
