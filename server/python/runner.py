# The one program that runs Choppa functions remotely, the same file for every backend. Its text
# is executed once in a long-lived namespace (a Databricks execution context, the local python3)
# and defines only `_choppa_runner`; each run is then one short command (`start`, `poll`,
# `cancel`) carrying a base64 JSON payload. Python 3.8+, stdlib only; user values are parsed as
# literals and never spliced into source.


def _choppa_install(namespace):
    import __future__
    import ast
    import base64
    import builtins
    import collections
    import ctypes
    import datetime
    import hashlib
    import json
    import linecache
    import os
    import pickle
    import pprint
    import re
    import reprlib
    import shutil
    import sys
    import threading
    import time
    import traceback
    import types
    import uuid

    version = 1
    existing = namespace.get('_choppa_runner')
    # Invariant: sending the file twice keeps the first runner, its held values and its runs.
    if existing is not None and getattr(existing, 'version', None) == version:
        return existing

    notebook_globals = (
        'spark', 'sc', 'sqlContext', 'dbutils', 'display', 'displayHTML', 'table', 'sql', 'udf',
        'getArgument',
    )
    kept_values = 64
    kept_runs = 64
    repr_max = 2000
    table_rows = 10
    table_columns = 8
    table_cell = 40
    table_max = 4000
    json_max = 64 * 1024
    output_keep = 1 << 20
    poll_chunk = 256 * 1024
    run_id_pattern = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z')
    storage_roots = ('Workspace', 'Volumes', 'dbfs')

    class ChoppaCancelled(KeyboardInterrupt):
        """Raised in a run's worker thread to cancel it; a BaseException so that a user's
        `except Exception` does not swallow it."""

    class Refusal(Exception):
        """A run that cannot happen as asked; reported with `kind` as the error type and no frames."""

        def __init__(self, kind, message):
            Exception.__init__(self, message)
            self.kind = kind
            self.message = message

    def map_path(logical, root=None):
        """Maps a logical storage path (`/Workspace/..`, `/Volumes/..`, `dbfs:/..`) to the local
        path that holds it, under `root` (default: env CHOPPA_FS_ROOT). Mirrors `mapLogicalPath`
        in server/src/backends/fs-paths.ts; raises ValueError for anything else."""
        if root is None:
            root = os.environ.get('CHOPPA_FS_ROOT', '')
        if not isinstance(logical, str) or logical == '':
            raise ValueError('the storage path is empty')
        if '\0' in logical or '\\' in logical:
            raise ValueError('the storage path `%s` contains a NUL or a backslash' % logical)
        if logical.startswith('dbfs:'):
            rest = logical[len('dbfs:'):]
            if not rest.startswith('/'):
                raise ValueError('the storage path `%s` must look like dbfs:/folder' % logical)
            local = '/dbfs' + rest
        elif logical.startswith('/'):
            local = logical
        else:
            raise ValueError(
                'the storage path `%s` is relative; use /Workspace/..., /Volumes/... or dbfs:/...'
                % logical)
        segments = [s for s in local.split('/') if s not in ('', '.')]
        if '..' in segments:
            raise ValueError('the storage path `%s` contains `..`' % logical)
        if not segments or segments[0] not in storage_roots:
            raise ValueError(
                'the storage path `%s` is not under /Workspace/, /Volumes/ or dbfs:/' % logical)
        mapped = '/' + '/'.join(segments)
        if root:
            mapped = root.rstrip('/') + mapped
        return mapped

    def type_name(value_type):
        module = getattr(value_type, '__module__', None)
        name = getattr(value_type, '__qualname__', None) or getattr(value_type, '__name__', '?')
        # Types defined in the shipped source live in the fresh `__choppa__` namespace; their bare
        # name is what the user wrote.
        if module in (None, 'builtins', '__choppa__'):
            return name
        return '%s.%s' % (module, name)

    short_repr = reprlib.Repr()
    short_repr.maxstring = repr_max
    short_repr.maxother = repr_max
    short_repr.maxlist = short_repr.maxtuple = short_repr.maxset = 100
    short_repr.maxfrozenset = short_repr.maxdeque = short_repr.maxarray = 100
    short_repr.maxdict = 50
    short_repr.maxlevel = 6

    def safe_repr(value):
        try:
            text = short_repr.repr(value)
        except Exception as exc:
            text = '<%s object; repr() failed: %s>' % (type_name(type(value)), exc)
        if len(text) > repr_max:
            text = text[:repr_max - 1] + '\u2026'
        return text

    def pretty_repr(value, text):
        """A nested list/dict/tuple that `text` (its short repr) shows whole, pretty-printed and
        wrapped; `text` itself for anything else or anything cut."""
        if not isinstance(value, (list, tuple, dict)) or '...' in text or len(text) <= 80:
            return text
        try:
            pretty = pprint.pformat(value, width=80, compact=True, sort_dicts=False)
        except Exception:
            return text
        return pretty if len(pretty) <= repr_max else text

    def table_cell_text(cell):
        try:
            text = short_repr.repr(cell) if not isinstance(cell, str) else cell
        except Exception:
            text = '?'
        text = text.replace('\\', '\\\\').replace('|', '\\|').replace('\r', ' ').replace('\n', ' ')
        return text if len(text) <= table_cell else text[:table_cell - 1] + '\u2026'

    def table_rows_of(value):
        """(columns, first rows, total rows or None, total columns) of a table-like value, or None:
        a list or tuple of dicts or of equal-length tuples/lists, a pandas or Spark DataFrame.
        Reads only the first rows, never the whole value."""
        module = getattr(type(value), '__module__', '') or ''
        if module.startswith('pandas') and hasattr(value, 'iloc') and hasattr(value, 'columns'):
            columns = [str(column) for column in list(value.columns)]
            head = value.iloc[:table_rows, :table_columns]
            rows = [[index] + list(row) for index, row in zip(head.index, head.itertuples(index=False, name=None))]
            return [''] + columns[:table_columns], rows, len(value), len(columns)
        if module.startswith('pyspark') and hasattr(value, 'limit') and hasattr(value, 'columns'):
            columns = list(value.columns)
            rows = [list(row)[:table_columns] for row in value.limit(table_rows).collect()]
            return columns[:table_columns], rows, None, len(columns)
        if not isinstance(value, (list, tuple)) or len(value) == 0:
            return None
        first = value[:table_rows]
        if all(isinstance(row, dict) for row in first):
            columns = []
            for row in first:
                for key in row:
                    if key not in columns:
                        columns.append(key)
            if not columns:
                return None
            rows = [[row.get(column, '') for column in columns[:table_columns]] for row in first]
            return [str(column) for column in columns[:table_columns]], rows, len(value), len(columns)
        if all(isinstance(row, (tuple, list)) for row in first):
            width = len(first[0])
            if width == 0 or any(len(row) != width for row in first):
                return None
            if any(isinstance(cell, (list, tuple, dict)) for row in first for cell in row):
                return None
            columns = [str(index) for index in range(min(width, table_columns))]
            return columns, [list(row)[:table_columns] for row in first], len(value), width
        return None

    def table_preview(value):
        """A Markdown table of the first rows and columns of a table-like value, with its shape;
        None for anything else (or when reading it fails: a preview never fails a run)."""
        try:
            found = table_rows_of(value)
        except Exception:
            return None
        if found is None:
            return None
        columns, rows, total_rows, total_columns = found
        lines = [
            '| ' + ' | '.join(table_cell_text(column) for column in columns) + ' |',
            '|' + '---|' * len(columns),
        ]
        for row in rows:
            cells = [table_cell_text(cell) for cell in row] + [''] * (len(columns) - len(row))
            lines.append('| ' + ' | '.join(cells) + ' |')
        shown_columns = len(columns) - (1 if columns and columns[0] == '' else 0)
        shape = '%s rows' % total_rows if total_rows is not None else 'first %d rows' % len(rows)
        shape += ' \u00d7 %d columns' % total_columns
        if (total_rows is not None and total_rows > len(rows)) or total_columns > shown_columns:
            shape += ' (showing %d \u00d7 %d)' % (len(rows), shown_columns)
        text = '\n'.join(lines + ['', shape])
        return text if len(text) <= table_max else None

    def iso_now():
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (now.microsecond // 1000)

    def set_async_exc(thread_id, exc_type):
        """Raises `exc_type` in another thread at its next bytecode boundary; None clears a
        pending one. Returns False where the C API is unavailable."""
        api = getattr(ctypes, 'pythonapi', None)
        if api is None or thread_id is None:
            return False
        arg = ctypes.py_object(exc_type) if exc_type is not None else None
        return api.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), arg) == 1

    def notebook_value(name):
        if name in namespace:
            return namespace[name]
        main = sys.modules.get('__main__')
        return getattr(main, name, None) if main is not None else None

    class Capture(object):
        """One output stream of a run: the parts `poll` has not delivered yet and a bounded
        history for the final envelope. Lock-free: list append and slicing are atomic under the
        GIL, and a lock could be left held by an asynchronous cancellation."""

        def __init__(self):
            self.parts = []
            self.taken = 0
            self.omitted = 0
            self.held = 0

        def write(self, text):
            self.parts.append(text)

        def take(self):
            end = len(self.parts)
            # One report carries about `poll_chunk` characters; the rest waits for the next poll.
            size = 0
            for index in range(self.taken, end):
                size += len(self.parts[index])
                if size >= poll_chunk:
                    end = index + 1
                    break
            new = self.parts[self.taken:end]
            self.taken = end
            self.held += sum(len(p) for p in new)
            # Delivered output beyond twice the envelope's cap is dropped from memory.
            while self.held > 2 * output_keep and self.taken > 1:
                first = self.parts[0]
                del self.parts[0]
                self.taken -= 1
                self.held -= len(first)
                self.omitted += len(first)
            return ''.join(new)

        def pending(self):
            return len(self.parts) > self.taken

        def whole(self):
            text = ''.join(self.parts[:])
            omitted = self.omitted
            if len(text) > output_keep:
                omitted += len(text) - output_keep
                text = text[-output_keep:]
            if omitted:
                text = '[... %d characters omitted ...]\n%s' % (omitted, text)
            return text

    class Run(object):
        def __init__(self, payload, tee=False):
            self.payload = payload
            self.id = payload['run_id']
            self.tee = tee
            self.lock = threading.Lock()
            self.finished = threading.Event()
            # running -> cancelling -> done; `phase` is setup -> user -> finish.
            self.state = 'running'
            self.phase = 'setup'
            self.fired = False
            self.cancel_requested = False
            self.thread_id = None
            self.envelope = None
            self.out = Capture()
            self.err = Capture()
            self.started = time.monotonic()

    class Router(object):
        """Stands in for sys.stdout/sys.stderr: writes from a run's worker thread go to that
        run's capture, every other write to the stream it replaced."""

        def __init__(self, runner, fallback, stream):
            self._choppa_runner = runner
            self._choppa_fallback = fallback
            self._choppa_stream = stream

        def _choppa_run(self):
            return self._choppa_runner._routes.get(threading.get_ident())

        def write(self, text):
            run = self._choppa_run()
            if run is None:
                return self._choppa_fallback.write(text)
            if not isinstance(text, str):
                raise TypeError('write() argument must be str, not %s' % type(text).__name__)
            getattr(run, self._choppa_stream).write(text)
            if run.tee:
                try:
                    self._choppa_fallback.write(text)
                except Exception:
                    pass
            return len(text)

        def writelines(self, lines):
            for line in lines:
                self.write(line)

        def flush(self):
            if self._choppa_run() is None or self._choppa_run().tee:
                try:
                    self._choppa_fallback.flush()
                except Exception:
                    pass

        def isatty(self):
            return False if self._choppa_run() is not None else self._choppa_fallback.isatty()

        def __getattr__(self, name):
            return getattr(self._choppa_fallback, name)

    class Runner(object):
        """The runner's one object. `start`/`poll`/`cancel` return one line of JSON each."""

        def __init__(self):
            self.version = version
            self.map_path = map_path
            self._routes = {}
            self._runs = collections.OrderedDict()
            self._values = collections.OrderedDict()
            self._lock = threading.Lock()

        def info(self):
            """The interpreter this runner lives in, as JSON."""
            return json.dumps({
                'runner_version': version,
                'python': '%d.%d.%d' % tuple(sys.version_info[:3]),
                'pid': os.getpid(),
                'executable': sys.executable,
            })

        def start(self, payload_b64):
            """Starts a run in a worker thread and returns its first report. Starting a run_id
            that is already known returns that run's report instead (a retried command)."""
            self._install_routers()
            return json.dumps(self._report(self._start(payload_b64, tee=False)))

        def poll(self, run_id):
            """New stdout/stderr since the last poll, the state, and the envelope when done."""
            self._install_routers()
            run = self._runs.get(run_id)
            if run is None:
                return json.dumps({'run_id': run_id, 'state': 'unknown'})
            return json.dumps(self._report(run))

        def cancel(self, run_id):
            """Interrupts a run's worker thread and its Spark jobs (the run ends `cancelled`);
            returns the run's report like `poll`."""
            self._install_routers()
            run = self._runs.get(run_id)
            if run is None:
                return json.dumps({'run_id': run_id, 'state': 'unknown'})
            # A timeout rather than a plain acquire: an asynchronous exception landing in the
            # worker right after it acquired the lock would leave it held forever.
            if run.lock.acquire(timeout=1.0):
                try:
                    if run.state != 'done':
                        run.cancel_requested = True
                        run.state = 'cancelling'
                        if run.phase == 'user' and not run.fired:
                            run.fired = True
                            set_async_exc(run.thread_id, ChoppaCancelled)
                finally:
                    run.lock.release()
            self._cancel_spark(run.id)
            return json.dumps(self._report(run))

        def run(self, payload_b64, tee=False):
            """Starts a run, waits for it, and returns its final report."""
            self._install_routers()
            run = self._start(payload_b64, tee=tee)
            run.finished.wait()
            return json.dumps(self._report(run))

        def main(self, argv):
            """Script entry: `runner.py --payload-file F --result-file R` (a jobs task)."""
            options = {}
            rest = list(argv)
            while rest:
                flag = rest.pop(0)
                if flag in ('--payload-file', '--result-file') and rest:
                    options[flag] = rest.pop(0)
                else:
                    sys.stderr.write('runner.py: unexpected argument %r\n' % flag)
                    return 2
            if '--payload-file' not in options:
                sys.stderr.write('usage: runner.py --payload-file F [--result-file R]\n')
                return 2
            with open(self._local_file(options['--payload-file']), 'rb') as handle:
                raw = handle.read().strip()
            payload_b64 = raw if not raw.startswith(b'{') else base64.b64encode(raw)
            report = json.loads(self.run(payload_b64.decode('ascii'), tee=True))
            envelope = report.get('envelope') or {}
            if '--result-file' in options:
                target = self._local_file(options['--result-file'])
                os.makedirs(os.path.dirname(target) or '.', exist_ok=True)
                write_atomically(target, json.dumps(envelope).encode('utf-8'))
            else:
                sys.stdout.write(json.dumps(envelope) + '\n')
            status = envelope.get('status')
            error = envelope.get('error') if status == 'error' else None
            if isinstance(error, dict):
                # The task's log and a jobs service's `error`/`error_trace` then say what
                # raised, even when the result file cannot be read back.
                text = error.get('traceback') or '%s: %s\n' % (error.get('type'), error.get('message'))
                sys.stderr.write(text if text.endswith('\n') else text + '\n')
                sys.stderr.flush()
            return 0 if status == 'ok' else (130 if status == 'cancelled' else 1)

        def _local_file(self, name):
            try:
                return map_path(name)
            except ValueError:
                return name

        def _install_routers(self):
            # Checked on every command: a REPL may swap sys.stdout between commands.
            for stream in ('out', 'err'):
                attr = 'std' + stream
                current = getattr(sys, attr)
                if not (isinstance(current, Router) and current._choppa_runner is self):
                    setattr(sys, attr, Router(self, current, stream))

        def _start(self, payload_b64, tee):
            try:
                payload = decode_payload(payload_b64)
            except Refusal as refusal:
                run_id = refusal.run_id if hasattr(refusal, 'run_id') else None
                fake = Run({'run_id': run_id or 'invalid-' + uuid.uuid4().hex[:12]})
                self._finish(fake, failure(refusal.kind, refusal.message), 0.0)
                if run_id is not None:
                    self._remember(fake)
                return fake
            with self._lock:
                existing = self._runs.get(payload['run_id'])
                if existing is not None:
                    return existing
                run = Run(payload, tee=tee)
                self._remember(run)
            thread = threading.Thread(
                target=self._work, args=(run,), name='choppa-%s' % run.id, daemon=True)
            thread.start()
            return run

        def _remember(self, run):
            self._runs[run.id] = run
            self._runs.move_to_end(run.id)
            finished = [k for k, r in self._runs.items() if r.state == 'done']
            for key in finished[:max(0, len(finished) - kept_runs)]:
                del self._runs[key]

        def _report(self, run):
            # State first: output written before the run ended is then never reported after
            # the envelope.
            state = run.state
            report = {'run_id': run.id, 'state': state, 'stdout': run.out.take(), 'stderr': run.err.take()}
            # `done` only once all output went out, so a poller that stops at `done` saw it all.
            if state == 'done' and (run.out.pending() or run.err.pending()):
                state = report['state'] = 'cancelling' if run.cancel_requested else 'running'
            if state == 'done':
                report['envelope'] = run.envelope
            return report

        def _work(self, run):
            run.thread_id = threading.get_ident()
            self._routes[run.thread_id] = run
            outcome = None
            try:
                try:
                    outcome = self._execute(run)
                except BaseException as exc:
                    outcome = None if isinstance(exc, ChoppaCancelled) else internal_error(exc)
            except BaseException:
                # A cancellation delivered while the first exception was being handled.
                outcome = None
            try:
                set_async_exc(run.thread_id, None)
            except BaseException:
                pass
            self._routes.pop(run.thread_id, None)
            elapsed = time.monotonic() - run.started
            if run.cancel_requested or outcome is None:
                outcome = {'status': 'cancelled'}
            self._finish(run, outcome, elapsed)

        def _finish(self, run, outcome, elapsed):
            envelope = dict(outcome)
            envelope['stdout'] = run.out.whole()
            envelope['stderr'] = run.err.whole()
            envelope['durationMs'] = int(round(elapsed * 1000))
            with run.lock:
                run.envelope = envelope
                run.state = 'done'
                run.phase = 'finish'
            run.finished.set()

        def _execute(self, run):
            """Runs the user's function; returns the outcome (without output and duration).
            ChoppaCancelled escapes from here when the run is cancelled."""
            payload = run.payload
            self._join_spark_group(run)
            filename = '<choppa:%s>' % payload['function_name']
            try:
                with run.lock:
                    if run.cancel_requested:
                        raise ChoppaCancelled()
                    run.phase = 'user'
                try:
                    value = self._call(payload, filename)
                finally:
                    with run.lock:
                        run.phase = 'finish'
                    # Drops a cancellation fired just as the function returned; `fired` says
                    # it happened.
                    set_async_exc(run.thread_id, None)
                if run.fired:
                    raise ChoppaCancelled()
            except ChoppaCancelled:
                raise
            except Refusal as refusal:
                return failure(refusal.kind, refusal.message)
            except BaseException as exc:
                if run.fired:
                    raise ChoppaCancelled()
                return {'status': 'error', 'error': user_error(exc, filename, payload['source'])}
            try:
                return self._result(run, value)
            except Refusal as refusal:
                return failure(refusal.kind, refusal.message)

        def _call(self, payload, filename):
            args, kwargs = self._arguments(payload)
            if payload['mode'] != 'remote' or payload['result_size_max'] is not None:
                artifact_location(payload)
            source = payload['source']
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            code = compile(source, filename, 'exec', __future__.annotations.compiler_flag, True)
            scope = {'__name__': '__choppa__', '__builtins__': builtins}
            for name in notebook_globals:
                value = notebook_value(name)
                if value is not None:
                    scope[name] = value
            exec(code, scope)
            function = scope.get(payload['function_name'])
            if not callable(function):
                raise Refusal(
                    'ChoppaPayloadError',
                    'the shipped source does not define a function `%s`' % payload['function_name'])
            value = function(*args, **kwargs)
            if isinstance(value, types.CoroutineType):
                # Imported here: asyncio costs more start-up time than the rest of the runner.
                import asyncio
                value = asyncio.run(value)
            return value

        def _arguments(self, payload):
            text = payload['args_source']
            refs = payload['args_refs']
            wrapped = 'f(' + text + ')'
            try:
                tree = ast.parse(wrapped, mode='eval')
            except SyntaxError as exc:
                raise Refusal(
                    'ChoppaArgumentError',
                    'the arguments `%s` are not valid Python (%s)' % (text, exc.msg))
            call = tree.body
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == 'f'):
                raise Refusal(
                    'ChoppaArgumentError', 'the arguments `%s` are not an argument list' % text)

            def value_of(node):
                if isinstance(node, ast.Name):
                    if node.id in refs:
                        return self._load_ref(node.id, refs[node.id])
                    raise refused(node)
                if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                    if any(isinstance(e, ast.Starred) for e in node.elts):
                        raise refused(node)
                    items = [value_of(e) for e in node.elts]
                    if isinstance(node, ast.List):
                        return items
                    if isinstance(node, ast.Tuple):
                        return tuple(items)
                    try:
                        return set(items)
                    except TypeError:
                        raise refused(node)
                if isinstance(node, ast.Dict):
                    if any(k is None for k in node.keys):
                        raise refused(node)
                    try:
                        return dict((value_of(k), value_of(v)) for k, v in zip(node.keys, node.values))
                    except TypeError:
                        raise refused(node)
                try:
                    return ast.literal_eval(node)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    raise refused(node)

            def refused(node):
                segment = ast.get_source_segment(wrapped, node) or ast.dump(node)
                return Refusal(
                    'ChoppaArgumentError',
                    'argument `%s` is not a literal or the result of an earlier remote call; '
                    'only functions and their arguments reach the cluster' % segment)

            args = []
            for node in call.args:
                if isinstance(node, ast.Starred):
                    splat = value_of(node.value)
                    try:
                        args.extend(splat)
                    except TypeError:
                        raise Refusal(
                            'ChoppaArgumentError',
                            'argument `*%s` is not iterable' % ast.get_source_segment(wrapped, node.value))
                else:
                    args.append(value_of(node))
            kwargs = {}
            for keyword in call.keywords:
                if keyword.arg is not None:
                    pairs = [(keyword.arg, value_of(keyword.value))]
                else:
                    mapping = value_of(keyword.value)
                    if not isinstance(mapping, dict) or not all(isinstance(k, str) for k in mapping):
                        raise Refusal(
                            'ChoppaArgumentError',
                            'argument `**%s` is not a mapping with string keys'
                            % ast.get_source_segment(wrapped, keyword.value))
                    pairs = list(mapping.items())
                for name, item in pairs:
                    if name in kwargs:
                        raise Refusal(
                            'ChoppaArgumentError', 'argument `%s` is given more than once' % name)
                    kwargs[name] = item
            return args, kwargs

        def _load_ref(self, name, ref):
            if isinstance(ref, dict) and isinstance(ref.get('path'), str):
                try:
                    local = map_path(ref['path'])
                except ValueError as exc:
                    raise Refusal('ChoppaArtifactError', 'argument `%s`: %s' % (name, exc))
                try:
                    with open(local, 'rb') as handle:
                        return pickle.load(handle)
                except FileNotFoundError:
                    raise Refusal(
                        'ChoppaArtifactError',
                        'argument `%s`: the artifact %s does not exist; run the function that '
                        'made it again' % (name, ref['path']))
                except Exception as exc:
                    raise Refusal(
                        'ChoppaArtifactError',
                        'argument `%s`: the artifact %s could not be loaded (%s: %s)'
                        % (name, ref['path'], type_name(type(exc)), exc))
            if isinstance(ref, dict) and isinstance(ref.get('run_id'), str):
                with self._lock:
                    if ref['run_id'] in self._values:
                        self._values.move_to_end(ref['run_id'])
                        return self._values[ref['run_id']]
                raise Refusal(
                    'ChoppaArgumentError',
                    'argument `%s` is the result of run %s, which this Python process no longer '
                    'holds (it was restarted or the result was evicted); run that function again'
                    % (name, ref['run_id']))
            raise Refusal(
                'ChoppaPayloadError', 'argument `%s` has a malformed reference %r' % (name, ref))

        def _result(self, run, value):
            payload = run.payload
            preview = pretty_repr(value, safe_repr(value))
            table = table_preview(value)
            kind = type_name(type(value))
            if payload['mode'] != 'remote':
                return {'status': 'ok', 'ref': store_artifact(payload, value, kind, preview, table)}
            limit = payload['result_size_max']
            sink = PickleSink(payload, spill_after=limit)
            try:
                pickle.dump(value, sink, protocol=4)
            except Refusal:
                raise
            except Exception:
                # An unpicklable value still comes back inline, with its size unknown.
                sink.discard()
                size = None
            else:
                size = sink.size
                if sink.spilled():
                    return {'status': 'ok', 'ref': sink.commit(kind, preview, table)}
            info = {'repr': preview, 'type': kind, 'size': size}
            if table is not None:
                info['table'] = table
            if size is not None and size <= 4 * json_max:
                try:
                    text = json.dumps(value, allow_nan=False)
                except (TypeError, ValueError, RecursionError):
                    text = None
                if text is not None and len(text.encode('utf-8')) <= json_max:
                    info['json'] = json.loads(text)
            with self._lock:
                self._values[run.id] = value
                while len(self._values) > kept_values:
                    self._values.popitem(last=False)
            return {'status': 'ok', 'value': info}

        def _join_spark_group(self, run):
            spark = notebook_value('spark')
            if spark is None:
                return
            description = 'choppa %s' % run.payload.get('function_name')
            try:
                spark.sparkContext.setJobGroup(run.id, description, interruptOnCancel=True)
            except Exception:
                try:
                    spark.addTag(run.id)
                except Exception:
                    pass

        def _cancel_spark(self, run_id):
            spark = notebook_value('spark')
            if spark is None:
                return
            try:
                spark.sparkContext.cancelJobGroup(run_id)
            except Exception:
                try:
                    spark.interruptTag(run_id)
                except Exception:
                    pass

    def decode_payload(payload_b64):
        try:
            payload = json.loads(base64.b64decode(payload_b64).decode('utf-8'))
        except Exception as exc:
            raise Refusal('ChoppaPayloadError', 'the run payload is not base64 JSON (%s)' % exc)
        if not isinstance(payload, dict):
            raise Refusal('ChoppaPayloadError', 'the run payload is not a JSON object')
        run_id = payload.get('run_id')
        if not isinstance(run_id, str) or not run_id_pattern.match(run_id):
            raise Refusal('ChoppaPayloadError', 'the run id %r is not [A-Za-z0-9_.-]+' % (run_id,))

        def bad(message):
            refusal = Refusal('ChoppaPayloadError', message)
            refusal.run_id = run_id
            return refusal

        mode = payload.get('mode')
        if mode not in ('remote', 'artifact', 'submit'):
            raise bad('the run mode %r is not remote, artifact or submit' % (mode,))
        name = payload.get('function_name')
        if not isinstance(name, str) or not name.isidentifier():
            raise bad('the function name %r is not a Python identifier' % (name,))
        if not isinstance(payload.get('source'), str):
            raise bad('the payload has no function source')
        payload.setdefault('args_source', '')
        payload.setdefault('args_refs', {})
        if not isinstance(payload['args_source'], str) or not isinstance(payload['args_refs'], dict):
            raise bad('args_source must be a string and args_refs an object')
        limit = payload.get('result_size_max', payload.get('max_result_size'))
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise bad('result_size_max %r is not a byte count' % (limit,))
        payload['result_size_max'] = limit
        if not isinstance(payload.get('artifact_dir', ''), str):
            raise bad('artifact_dir must be a string')
        return payload

    def artifact_location(payload):
        """(logical directory, local directory) for the payload's artifacts."""
        logical = payload.get('artifact_dir') or ''
        try:
            local = map_path(logical)
        except ValueError as exc:
            raise Refusal('ChoppaArtifactError', 'artifact_dir: %s' % exc)
        return logical.rstrip('/'), local

    def write_atomically(target, data):
        temporary = '%s.tmp-%s' % (target, uuid.uuid4().hex[:12])
        try:
            with open(temporary, 'wb') as handle:
                handle.write(data)
            replace(temporary, target)
        except BaseException:
            remove_quietly(temporary)
            raise

    def replace(source, target):
        try:
            os.replace(source, target)
        except OSError:
            # Some FUSE mounts refuse rename; a copy is the best they allow.
            shutil.copyfile(source, target)
            remove_quietly(source)

    def remove_quietly(path):
        try:
            os.remove(path)
        except OSError:
            pass

    class PickleSink(object):
        """A pickle.dump target that counts and hashes the bytes, keeps them in memory up to
        `spill_after` (None: keeps nothing), then streams them into a temp file beside the
        artifact, so small results never touch storage and big ones never sit in memory."""

        def __init__(self, payload, spill_after):
            self.payload = payload
            self.spill_after = spill_after
            self.size = 0
            self.sha = hashlib.sha256()
            self.buffer = []
            self.file = None
            self.temporary = None

        def write(self, data):
            count = len(data)
            self.size += count
            self.sha.update(data)
            if self.file is not None:
                self.file.write(data)
            elif self.spill_after is not None:
                self.buffer.append(bytes(data))
                if self.size > self.spill_after:
                    self._spill()
            return count

        def _spill(self):
            logical_dir, local_dir = artifact_location(self.payload)
            try:
                os.makedirs(local_dir, exist_ok=True)
                self.temporary = '%s/%s.pkl.tmp-%s' % (local_dir, self.base(), uuid.uuid4().hex[:12])
                self.file = open(self.temporary, 'wb')
                for part in self.buffer:
                    self.file.write(part)
            except OSError as exc:
                self.discard()
                raise Refusal(
                    'ChoppaArtifactError',
                    'could not write the artifact under %s (%s)' % (logical_dir, exc))
            self.buffer = []

        def base(self):
            return '%s-%s' % (self.payload['function_name'], self.payload['run_id'])

        def spilled(self):
            return self.file is not None

        def discard(self):
            if self.file is not None:
                self.file.close()
                self.file = None
            if self.temporary is not None:
                remove_quietly(self.temporary)
            self.buffer = []

        def commit(self, kind, preview, table=None):
            """Renames the pickle into place, then writes the sidecar; returns the ref."""
            logical_dir, local_dir = artifact_location(self.payload)
            local_pkl = '%s/%s.pkl' % (local_dir, self.base())
            ref = {
                'path': '%s/%s.pkl' % (logical_dir, self.base()),
                'size': self.size,
                'sha256': self.sha.hexdigest(),
                'type': kind,
                'preview': preview,
                'created': iso_now(),
            }
            if table is not None:
                ref['table'] = table
            try:
                self.file.close()
                self.file = None
                replace(self.temporary, local_pkl)
                self.temporary = None
                write_atomically(
                    '%s/%s.json' % (local_dir, self.base()),
                    json.dumps(ref, indent=2).encode('utf-8'))
            except OSError as exc:
                self.discard()
                raise Refusal(
                    'ChoppaArtifactError',
                    'could not write the artifact %s (%s)' % (ref['path'], exc))
            return ref

    def store_artifact(payload, value, kind, preview, table=None):
        sink = PickleSink(payload, spill_after=-1)
        try:
            pickle.dump(value, sink, protocol=4)
        except Refusal:
            raise
        except Exception as exc:
            sink.discard()
            raise Refusal(
                'ChoppaArtifactError',
                'the result of %s (%s) cannot be pickled: %s' % (payload['function_name'], kind, exc))
        if not sink.spilled():
            sink._spill()
        return sink.commit(kind, preview, table)

    def failure(kind, message):
        return {'status': 'error', 'error': {
            'type': kind, 'message': message, 'frames': [], 'origin': 'remote'}}

    def internal_error(exc):
        text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return {'status': 'error', 'error': {
            'type': 'ChoppaRunnerError',
            'message': 'the runner failed: %s: %s' % (type_name(type(exc)), exc),
            'frames': [], 'traceback': text, 'origin': 'backend'}}

    def user_error(exc, filename, source):
        lines = source.splitlines()

        def text_at(line):
            return lines[line - 1].strip() if line and 0 < line <= len(lines) else ''

        frames = []
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == filename and frame.lineno:
                frames.append({
                    'line': frame.lineno, 'function': frame.name, 'text': text_at(frame.lineno)})
        message = str(exc)
        if isinstance(exc, SyntaxError) and exc.filename == filename:
            message = exc.msg
            frames.append({
                'line': exc.lineno or 1, 'function': '<module>',
                'text': (exc.text or text_at(exc.lineno)).strip()})
        # The printed traceback starts at the user's first frame, without the runner's own.
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != filename:
            tb = tb.tb_next
        printed = ''.join(traceback.format_exception(type(exc), exc, tb))
        return {
            'type': type_name(type(exc)), 'message': message, 'frames': frames,
            'traceback': printed, 'origin': 'remote'}

    runner = Runner()
    namespace['_choppa_runner'] = runner
    return runner


_choppa_install(globals())
del _choppa_install

if __name__ == '__main__' and '--payload-file' in __import__('sys').argv[1:]:
    raise SystemExit(_choppa_runner.main(__import__('sys').argv[1:]))
