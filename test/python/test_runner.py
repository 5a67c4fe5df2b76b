# Unit tests of server/python/runner.py from inside the namespace it is installed in: what the
# backend contract cannot see (names it adds, idempotent installs, retried starts, output routing,
# Spark job groups, the script entry). Run by test/backends/runner-python.test.ts.
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest
import uuid

RUNNER = os.environ.get('CHOPPA_RUNNER') or os.path.join(
    os.path.dirname(__file__), '..', '..', 'server', 'python', 'runner.py')
with open(RUNNER, encoding='utf-8') as handle:
    RUNNER_SOURCE = handle.read()


def install(namespace=None):
    namespace = {'__name__': '__main__'} if namespace is None else namespace
    exec(compile(RUNNER_SOURCE, RUNNER, 'exec'), namespace)
    return namespace


def encode(payload):
    return base64.b64encode(json.dumps(payload).encode('utf-8')).decode('ascii')


def payload(source, **overrides):
    body = {
        'run_id': 'u-' + uuid.uuid4().hex,
        'mode': 'remote',
        'function_name': 'f',
        'source': source,
        'args_source': '',
        'args_refs': {},
        'result_size_max': None,
        'artifact_dir': '/Workspace/Shared/unit',
    }
    body.update(overrides)
    return body


class FakeSparkContext(object):
    def __init__(self):
        self.calls = []

    def setJobGroup(self, group, description, interruptOnCancel=False):
        self.calls.append(('setJobGroup', group, interruptOnCancel))

    def cancelJobGroup(self, group):
        self.calls.append(('cancelJobGroup', group))


class FakeSpark(object):
    def __init__(self):
        self.sparkContext = FakeSparkContext()


class RunnerTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix='choppa-unit-')
        os.environ['CHOPPA_FS_ROOT'] = self.root
        self.namespace = install()
        self.runner = self.namespace['_choppa_runner']

    def run_payload(self, body):
        return json.loads(self.runner.run(encode(body)))

    def test_values_kept_for_chaining_are_bounded_by_bytes_oldest_first(self):
        self.runner.kept_value_bytes = 25000
        ids = []
        for _ in range(3):
            body = payload('def f():\n    return "x" * 10000\n')
            ids.append(body['run_id'])
            self.assertEqual(self.run_payload(body)['envelope']['status'], 'ok')
        # 3 x 10 KB over a 25 KB cap: the first is gone, the last two are kept.
        def chained(run_id):
            body = payload('def f(x):\n    return len(x)\n', args_source='x',
                           args_refs={'x': {'run_id': run_id, 'call': 'big() at line 7'}})
            return self.run_payload(body)['envelope']
        gone = chained(ids[0])
        self.assertEqual(gone['status'], 'error')
        self.assertIn('run `big() at line 7` again', gone['error']['message'])
        self.assertEqual(chained(ids[2])['value']['json'], 10000)
        # A single value over the cap is never kept.
        huge = payload('def f():\n    return "y" * 30000\n')
        self.run_payload(huge)
        self.assertEqual(chained(huge['run_id'])['status'], 'error')

    def test_install_adds_one_name_and_is_idempotent(self):
        namespace = {'__name__': '__main__', 'json': 'user value'}
        install(namespace)
        first = namespace['_choppa_runner']
        install(namespace)
        self.assertIs(namespace['_choppa_runner'], first)
        self.assertEqual(
            sorted(k for k in namespace if k != '__builtins__'), ['__name__', '_choppa_runner', 'json'])
        self.assertEqual(namespace['json'], 'user value')

    def test_reinstall_keeps_held_values(self):
        body = payload('def f():\n    return [1, 2, 3]\n')
        self.run_payload(body)
        install(self.namespace)
        chained = payload(
            'def g(x):\n    return len(x)\n', function_name='g', args_source='x',
            args_refs={'x': {'run_id': body['run_id']}})
        self.assertEqual(self.run_payload(chained)['envelope']['value']['json'], 3)

    def test_retried_start_does_not_run_twice(self):
        sys.choppa_unit_count = []
        body = payload('def f():\n    import sys\n    sys.choppa_unit_count.append(1)\n    return 1\n')
        first = json.loads(self.runner.start(encode(body)))
        second = json.loads(self.runner.run(encode(body)))
        self.assertEqual(first['run_id'], second['run_id'])
        self.assertEqual(second['envelope']['status'], 'ok')
        self.assertEqual(sys.choppa_unit_count, [1])

    def test_poll_returns_only_new_output(self):
        sys.choppa_unit_gate = threading.Event()
        body = payload(
            'def f():\n    import sys\n    print("one")\n    sys.choppa_unit_gate.wait(10)\n'
            '    print("two")\n    return 0\n')
        seen = json.loads(self.runner.start(encode(body)))['stdout']
        while 'one' not in seen:
            seen += json.loads(self.runner.poll(body['run_id']))['stdout']
        self.assertEqual(json.loads(self.runner.poll(body['run_id']))['stdout'], '')
        sys.choppa_unit_gate.set()
        report = json.loads(self.runner.poll(body['run_id']))
        while report['state'] != 'done':
            seen += report['stdout']
            report = json.loads(self.runner.poll(body['run_id']))
        seen += report['stdout']
        self.assertEqual(seen, 'one\ntwo\n')
        # The envelope never repeats the output that went out in the reports.
        self.assertNotIn('stdout', report['envelope'])
        again = json.loads(self.runner.poll(body['run_id']))
        self.assertEqual((again['state'], again['stdout']), ('done', ''))

    def test_switch_interval_is_lower_while_a_run_is_active_and_put_back_after(self):
        # A poll competing with a worker that computes in a tight loop waited a whole switch
        # interval for each blocking call; the runner lowers it while runs are active.
        before = sys.getswitchinterval()
        try:
            sys.setswitchinterval(0.004)
            body = payload('def f():\n    import sys\n    return sys.getswitchinterval()\n')
            seen = self.run_payload(body)['envelope']['value']['json']
            self.assertLessEqual(seen, 0.0005)
            self.assertEqual(sys.getswitchinterval(), 0.004)
            # An interval the function set itself is its own and stays.
            body = payload('def f():\n    import sys\n    sys.setswitchinterval(0.003)\n    return 1\n')
            self.assertEqual(self.run_payload(body)['envelope']['status'], 'ok')
            self.assertEqual(sys.getswitchinterval(), 0.003)
        finally:
            sys.setswitchinterval(before)

    def test_unknown_run(self):
        self.assertEqual(json.loads(self.runner.poll('nope'))['state'], 'unknown')
        self.assertEqual(json.loads(self.runner.cancel('nope'))['state'], 'unknown')

    def test_other_threads_write_to_the_original_stream(self):
        # A thread the function starts prints into the run; one nobody's run started does not.
        body = payload(
            'def f():\n    import threading, time\n    print("mine")\n'
            '    t = threading.Thread(target=lambda: print("its thread"))\n    t.start()\n    t.join()\n'
            '    time.sleep(0.3)\n')
        captured = []

        class Sink(object):
            def write(self, text):
                captured.append(text)

            def flush(self):
                pass

        saved = sys.stdout
        sys.stdout = Sink()
        try:
            outsider = threading.Timer(0.1, lambda: print("theirs"))
            outsider.start()
            report = self.run_payload(body)
            outsider.join()
        finally:
            sys.stdout = saved
        self.assertEqual(report['stdout'], 'mine\nits thread\n')
        self.assertIn('theirs', ''.join(captured))

    def test_cancel_is_not_swallowed_by_except_exception(self):
        body = payload(
            'def f():\n    import time\n    print("go", flush=True)\n    while True:\n'
            '        try:\n            time.sleep(0.005)\n        except Exception:\n            pass\n')
        seen = json.loads(self.runner.start(encode(body)))['stdout']
        while 'go' not in seen:
            seen += json.loads(self.runner.poll(body['run_id']))['stdout']
        self.runner.cancel(body['run_id'])
        report = json.loads(self.runner.poll(body['run_id']))
        while report['state'] != 'done':
            self.assertEqual(report['state'], 'cancelling')
            report = json.loads(self.runner.poll(body['run_id']))
        self.assertEqual(report['envelope']['status'], 'cancelled')
        self.assertEqual(seen, 'go\n')

    def test_spark_job_group_is_set_and_cancelled(self):
        spark = FakeSpark()
        self.namespace['spark'] = spark
        sys.choppa_unit_gate2 = threading.Event()
        body = payload(
            'def f():\n    import sys\n    print(spark is not None, flush=True)\n'
            '    sys.choppa_unit_gate2.wait(10)\n')
        seen = json.loads(self.runner.start(encode(body)))['stdout']
        while 'True' not in seen:
            seen += json.loads(self.runner.poll(body['run_id']))['stdout']
        self.runner.cancel(body['run_id'])
        sys.choppa_unit_gate2.set()
        self.assertEqual(spark.sparkContext.calls, [
            ('setJobGroup', body['run_id'], True), ('cancelJobGroup', body['run_id'])])

    def test_payload_errors_are_reported_not_raised(self):
        bad = json.loads(self.runner.start('not base64 at all!'))
        self.assertEqual(bad['state'], 'done')
        self.assertEqual(bad['envelope']['error']['type'], 'ChoppaPayloadError')
        for field, value in (('run_id', '../x'), ('function_name', 'os.system'), ('mode', 'exec')):
            body = payload('def f():\n    return 1\n')
            body[field] = value
            report = self.run_payload(body)
            self.assertEqual(report['envelope']['error']['type'], 'ChoppaPayloadError', field)

    def test_max_result_size_alias(self):
        body = payload('def f():\n    return "y" * 500\n')
        del body['result_size_max']
        body['max_result_size'] = 100
        self.assertIn('ref', self.run_payload(body)['envelope'])

    def test_list_of_dicts_previews_as_a_table_with_its_shape(self):
        body = payload('def f():\n    return [{"row": i, "square": i * i, "note": "a|b"} for i in range(25)]\n')
        table = self.run_payload(body)['envelope']['value']['table']
        lines = table.split('\n')
        self.assertEqual(lines[0], '| row | square | note |')
        self.assertEqual(lines[1], '|---|---|---|')
        self.assertEqual(lines[2], '| 0 | 0 | a\\|b |')
        self.assertEqual(len([line for line in lines if line.startswith('| ')]), 11)
        self.assertEqual(lines[-1], '25 rows \u00d7 3 columns (showing 10 \u00d7 3)')

    def test_list_of_tuples_previews_as_a_table_and_artifacts_keep_it(self):
        body = payload('def f():\n    return [(1, "x"), (2, "y")]\n', mode='artifact')
        ref = self.run_payload(body)['envelope']['ref']
        self.assertEqual(ref['table'].split('\n'), ['| 0 | 1 |', '|---|---|', '| 1 | x |', '| 2 | y |', '', '2 rows \u00d7 2 columns'])
        local = os.path.join(self.root, ref['path'].lstrip('/')[:-len('.pkl')] + '.json')
        with open(local) as sidecar:
            self.assertEqual(json.load(sidecar)['table'], ref['table'])

    def test_pandas_dataframe_previews_as_a_table_when_pandas_is_there(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            # Where pandas is missing no DataFrame can be returned: assert the plain case instead.
            body = payload('def f():\n    return {"a": 1}\n')
            self.assertNotIn('table', self.run_payload(body)['envelope']['value'])
            return
        body = payload('def f():\n    import pandas\n    return pandas.DataFrame({"a": range(12), "b": ["x"] * 12})\n')
        table = self.run_payload(body)['envelope']['value']['table']
        self.assertEqual(table.split('\n')[0], '|  | a | b |')
        self.assertIn('12 rows \u00d7 2 columns (showing 10 \u00d7 2)', table)

    def test_spark_dataframe_previews_its_first_rows_without_counting(self):
        # A stand-in with the module and the methods of pyspark.sql.DataFrame: only limit() and
        # collect() of the first rows may be called, never count() or a full collect().
        source = (
            'def f():\n'
            '    class DataFrame(object):\n'
            '        columns = ["id", "name"]\n'
            '        limited = None\n'
            '        def limit(self, n):\n'
            '            self.limited = n\n'
            '            return self\n'
            '        def collect(self):\n'
            '            if self.limited is None:\n'
            '                raise RuntimeError("collected everything")\n'
            '            return [(i, "n%d" % i) for i in range(self.limited)]\n'
            '        def count(self):\n'
            '            raise RuntimeError("counted")\n'
            '    DataFrame.__module__ = "pyspark.sql.dataframe"\n'
            '    DataFrame.__qualname__ = "DataFrame"\n'
            # Importable under that name, so the result pickles as a real one would have to.
            '    import sys, types\n'
            '    for name in ("pyspark", "pyspark.sql", "pyspark.sql.dataframe"):\n'
            '        sys.modules.setdefault(name, types.ModuleType(name))\n'
            '    sys.modules["pyspark.sql.dataframe"].DataFrame = DataFrame\n'
            '    return DataFrame()\n')
        table = self.run_payload(payload(source))['envelope']['value']['table']
        lines = table.split('\n')
        self.assertEqual(lines[0], '| id | name |')
        self.assertEqual(lines[2], '| 0 | n0 |')
        self.assertEqual(len([line for line in lines if line.startswith('| ')]), 11)
        self.assertEqual(lines[-1], 'first 10 rows \u00d7 2 columns')

    def test_other_values_have_no_table_and_nested_ones_are_pretty_printed(self):
        body = payload('def f():\n    return {"config": {"layers": [64, 128, 256], "dropout": 0.1}, "metrics": {"loss": [0.9, 0.5, 0.25, 0.125], "accuracy": 0.97}}\n')
        value = self.run_payload(body)['envelope']['value']
        self.assertNotIn('table', value)
        self.assertIn('\n', value['repr'])
        self.assertTrue(all(len(line) <= 80 for line in value['repr'].split('\n')))
        self.assertEqual(eval(value['repr']), eval(body['source'].split('return ')[1]))
        for flat in ('[1, 2, 3]', '"text"', '[[1, [2, 3]]]'):
            body = payload('def f():\n    return %s\n' % flat)
            self.assertNotIn('table', self.run_payload(body)['envelope']['value'])

    def test_coroutine_functions_are_awaited(self):
        body = payload('async def f(x):\n    return x * 2\n', args_source='21')
        self.assertEqual(self.run_payload(body)['envelope']['value']['json'], 42)

    def test_missing_function(self):
        body = payload('def g():\n    return 1\n')
        error = self.run_payload(body)['envelope']['error']
        self.assertEqual(error['type'], 'ChoppaPayloadError')
        self.assertIn('`f`', error['message'])

    def test_exception_at_module_level_of_the_source_has_a_frame(self):
        body = payload('def f(x=undefined_default):\n    return x\n')
        error = self.run_payload(body)['envelope']['error']
        self.assertEqual(error['type'], 'NameError')
        self.assertEqual(error['frames'][0]['line'], 1)

    def test_missing_artifact_ref(self):
        body = payload(
            'def f(x):\n    return x\n', args_source='x',
            args_refs={'x': {'path': '/Workspace/Shared/unit/gone.pkl'}})
        error = self.run_payload(body)['envelope']['error']
        self.assertEqual(error['type'], 'ChoppaArtifactError')
        self.assertIn('/Workspace/Shared/unit/gone.pkl', error['message'])

    def test_artifact_files_have_no_leftover_temporaries(self):
        body = payload('def f():\n    return list(range(1000))\n', mode='artifact')
        ref = self.run_payload(body)['envelope']['ref']
        folder = os.path.join(self.root, 'Workspace', 'Shared', 'unit')
        base = 'f-%s' % body['run_id']
        self.assertEqual(sorted(os.listdir(folder)), [base + '.json', base + '.pkl'])
        with open(os.path.join(folder, base + '.json'), encoding='utf-8') as handle:
            self.assertEqual(json.load(handle), ref)

    def test_script_entry(self):
        body = payload('def f(a):\n    print("from the job")\n    return a + 1\n', args_source='1')
        payload_file = os.path.join(self.root, 'payload.json')
        with open(payload_file, 'w', encoding='utf-8') as handle:
            json.dump(body, handle)
        env = dict(os.environ, CHOPPA_FS_ROOT=self.root)
        completed = subprocess.run(
            [sys.executable, RUNNER, '--payload-file', payload_file,
             '--result-file', 'dbfs:/results/r.json'],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            timeout=30)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn('from the job', completed.stdout)
        with open(os.path.join(self.root, 'dbfs', 'results', 'r.json'), encoding='utf-8') as handle:
            envelope = json.load(handle)
        self.assertEqual(envelope['value']['json'], 2)


class WireProtocolTest(unittest.TestCase):
    """Reports under a budget, resent from acknowledged positions, envelopes in pieces."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix='choppa-unit-')
        os.environ['CHOPPA_FS_ROOT'] = self.root
        self.runner = install()['_choppa_runner']

    def drain(self, body, budget, lose_every=0):
        """Polls like a backend: acknowledges what arrived, sends the same acks again after a
        lost report (every `lose_every`-th), and assembles the envelope. Returns the reports'
        lengths, the output and the envelope."""
        sizes, out, err, pieces = [], [], [], []
        acks = [0, 0, 0]
        text = self.runner.start(encode(body), budget)
        count = 0
        while True:
            count += 1
            sizes.append(len(text))
            if lose_every and count % lose_every == 0:
                text = self.runner.poll(body['run_id'], acks[0], acks[1], acks[2], budget)
                continue
            report = json.loads(text)
            self.assertEqual((report['out_at'], report['err_at']), (acks[0], acks[1]))
            out.append(report['stdout'])
            err.append(report['stderr'])
            acks[0], acks[1] = report['out'], report['err']
            part = report.get('envelope_part')
            if part is not None:
                self.assertEqual(part['at'], acks[2])
                pieces.append(part['text'])
                acks[2] += len(part['text'])
            if report['state'] == 'done':
                envelope = report.get('envelope') or json.loads(''.join(pieces))
                return sizes, ''.join(out), ''.join(err), envelope
            if not report.get('more'):
                import time
                time.sleep(0.002)
            text = self.runner.poll(body['run_id'], acks[0], acks[1], acks[2], budget)

    def test_every_report_fits_the_budget_and_nothing_is_lost(self):
        body = payload(
            'def f(n):\n    import sys\n    for i in range(n):\n'
            '        print("line %d \\u00e9\\t\\"q\\"" % i)\n'
            '        if i % 97 == 0:\n            print("err", i, file=sys.stderr)\n'
            '    return list(range(10000))\n', args_source='3000')
        sizes, out, err, envelope = self.drain(body, 16000, lose_every=7)
        self.assertLessEqual(max(sizes), 16000)
        self.assertEqual(out, ''.join('line %d \u00e9\t"q"\n' % i for i in range(3000)))
        self.assertEqual(err, ''.join('err %d\n' % i for i in range(0, 3000, 97)))
        # A 49 KB list: its JSON does not fit one report, so it came in pieces, whole.
        self.assertEqual(envelope['value']['json'], list(range(10000)))
        self.assertNotIn('stdout', envelope)

    def test_a_huge_single_print_leaves_in_budget_sized_pieces(self):
        body = payload('def f():\n    print("x" * 200000, end="")\n    return 1\n')
        sizes, out, _, envelope = self.drain(body, 5000)
        self.assertLessEqual(max(sizes), 5000)
        self.assertEqual(out, 'x' * 200000)
        self.assertEqual(envelope['value']['json'], 1)

    def test_heavy_output_goes_to_a_side_file_removed_once_acknowledged(self):
        body = payload('def f():\n    print("\u00e9" * 50000)\n    return 1\n')
        self.runner.start(encode(body), 2000)
        self.runner._runs[body['run_id']].finished.wait(10)
        report = json.loads(self.runner.poll(body['run_id'], 0, 0, 0, 2000, 10000))
        entry = report['stdout_file']
        self.assertEqual((entry['at'], entry['chars'], report['stdout']), (0, 50001, ''))
        self.assertEqual(report['out'], 50001)
        local = os.path.join(self.root, entry['path'].lstrip('/'))
        with open(local, encoding='utf-8') as handle:
            self.assertEqual(handle.read(), '\u00e9' * 50000 + '\n')
        # Asked again from the same position (a lost answer): the same file.
        again = json.loads(self.runner.poll(body['run_id'], 0, 0, 0, 2000, 10000))
        self.assertEqual(again['stdout_file'], entry)
        done = json.loads(self.runner.poll(body['run_id'], 50001, 0, 0, 2000, 10000))
        self.assertEqual(done['state'], 'done')
        self.assertFalse(os.path.exists(local))

    def test_print_reaches_the_run_when_the_repl_swapped_stdout(self):
        import contextlib
        import io
        sys.choppa_unit_gate = threading.Event()
        body = payload(
            'def f():\n    import sys\n    print("first line")\n'
            '    sys.choppa_unit_gate.wait(10)\n    print("second line")\n    return 0\n')
        # Each command runs inside its own redirect_stdout, as a REPL built on it does.
        with contextlib.redirect_stdout(io.StringIO()):
            first = json.loads(self.runner.start(encode(body)))
        between = io.StringIO()
        with contextlib.redirect_stdout(between):
            sys.choppa_unit_gate.set()
            while not self.runner._runs[body['run_id']].finished.wait(0.01):
                pass
        seen = first['stdout']
        while True:
            with contextlib.redirect_stdout(io.StringIO()):
                report = json.loads(self.runner.poll(body['run_id']))
            seen += report['stdout']
            if report['state'] == 'done':
                break
        self.assertEqual(seen, 'first line\nsecond line\n')
        self.assertEqual(between.getvalue(), '')


if __name__ == '__main__':
    unittest.main()
