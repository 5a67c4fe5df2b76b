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
    import importlib
    import json
    import linecache
    import os
    import pickle
    import pprint
    import re
    import reprlib
    import shutil
    import subprocess
    import sys
    import tempfile
    import threading
    import time
    import traceback
    import types
    import uuid

    # 2: reports under a budget; 3: runs may carry a `bundle` of project code and `args_values`;
    # 4: a lower GIL switch interval while runs are active, `start` takes `spill`; 5: arguments
    # and module constants may be arithmetic on literals (a warm context with an older runner
    # gets a new one).
    version = 5
    existing = namespace.get('_choppa_runner')
    # Invariant: sending the file twice keeps the first runner, its held values and its runs.
    if existing is not None and getattr(existing, 'version', None) == version:
        return existing

    notebook_globals = (
        'spark', 'sc', 'sqlContext', 'dbutils', 'display', 'displayHTML', 'table', 'sql', 'udf',
        'getArgument',
    )
    kept_values = 64
    # The values kept for chaining by run id are bounded by their pickled bytes too: three runs
    # of a 500 MB result must not keep 1.5 GB alive. The oldest go first.
    kept_value_bytes = 512 * 1024 * 1024
    # A result whose pickle is at most this many bytes travels back with it (base64), so the
    # server can pass it by value to a later call after a restart or from the CLI.
    by_value_max = 16 * 1024
    kept_runs = 64
    repr_max = 2000
    table_rows = 10
    table_columns = 8
    table_cell = 40
    table_max = 4000
    json_max = 64 * 1024
    # Every report is one line of JSON of at most `budget` characters, which the backend picks
    # below the command output cap of the runtime it talks to (50,000 characters on Databricks
    # Runtime 16.4 LTS and older); without a budget, `default_budget`.
    default_budget = 256 * 1024
    min_budget = 1000
    # Room kept in every report for its keys, state and positions.
    report_overhead = 400
    # Bounds of an error envelope: a message, a traceback text and a frame's text are cut in the
    # middle; frames keep the outermost and the innermost `frames_kept` (a RecursionError has
    # thousands), with a count of those left out.
    error_text_max = 64 * 1024
    frame_text_max = 500
    frames_kept = 50
    # The most characters of output one side file holds: at most 8 MB of UTF-8, under the
    # Workspace export limit of 10 MB.
    spill_chars_max = 2 * 1024 * 1024
    # A run's worker computing in a tight loop (printing heavy output, say) keeps the GIL for
    # whole switch intervals (5 ms by default), so every blocking call of the REPL's command
    # thread (reading the next command, writing a side file, answering) waited that long to get
    # it back: a poll took 20-60 ms instead of 1-3. While runs are active the interval is at most
    # this; it only matters when another thread asks for the GIL, which is what a poll does.
    busy_switch_interval = 0.0002
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

    def fitting(text, room):
        """How many leading characters of `text` fit in `room` once JSON-encoded as a string,
        and that encoding's length. Shrinks proportionally to the escaping seen, so it takes a
        few encodings at most."""
        count = min(len(text), room)
        while count > 0:
            encoded = len(json.dumps(text[:count]))
            if encoded <= room:
                return count, encoded
            count = min(count - 1, int(count * room / encoded))
        return 0, 2

    def clipped(text, limit):
        """`text` at most about `limit` characters: its head and tail around a note of how much
        was left out (a 10 MB exception message must not become a 10 MB envelope)."""
        if len(text) <= limit:
            return text
        half = limit // 2
        return '%s\n[... %d characters omitted ...]\n%s' % (text[:half], len(text) - 2 * half, text[-half:])

    # Arithmetic on literals, as users write arguments and module constants (`2 * 60`, `1 / 5`,
    # `10**6`, `1024 * 1024`), is computed by Python itself so the value and its type are Python's
    # (`10 / 5` is 2.0); bounded, so that an argument cannot make the driver build a huge value.
    constant_bits_max = 1 << 16
    constant_items_max = 1 << 20
    constant_binary = {
        ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
        ast.Pow: lambda a, b: a ** b, ast.LShift: lambda a, b: a << b, ast.RShift: lambda a, b: a >> b,
        ast.BitOr: lambda a, b: a | b, ast.BitAnd: lambda a, b: a & b, ast.BitXor: lambda a, b: a ^ b,
    }
    constant_unary = {ast.USub: lambda a: -a, ast.UAdd: lambda a: +a, ast.Invert: lambda a: ~a}

    class CostlyConstant(ValueError):
        """Arithmetic on literals refused for what computing it would cost the driver."""

    def constant_size_check(op, left, right):
        # Refuse before computing: `10**10**8` or `'x' * 10**12` would take the driver down.
        def bits(value):
            return value.bit_length() if isinstance(value, int) else 64
        if isinstance(op, ast.Pow) and isinstance(left, int) and isinstance(right, int) and right > 0:
            if max(bits(left), 1) * right > constant_bits_max:
                raise CostlyConstant('is too large a value to pass as an argument')
        elif isinstance(op, ast.LShift) and isinstance(right, int):
            if bits(left) + right > constant_bits_max:
                raise CostlyConstant('is too large a value to pass as an argument')
        elif isinstance(op, ast.Mult):
            if isinstance(left, int) and isinstance(right, int) and bits(left) + bits(right) > constant_bits_max:
                raise CostlyConstant('is too large a value to pass as an argument')
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, bytes, tuple, list)) and isinstance(count, int):
                    if len(sequence) * count > constant_items_max:
                        raise CostlyConstant('is too large a value to pass as an argument')
        elif isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
            # `'%0999999999d' % 1` is a gigabyte: formatting belongs inside the function.
            raise CostlyConstant('formats a string, which may build any size of text')
        elif isinstance(op, ast.Add) and isinstance(left, (str, bytes, tuple, list)) and isinstance(right, (str, bytes, tuple, list)):
            if len(left) + len(right) > constant_items_max:
                raise CostlyConstant('is too large a value to pass as an argument')

    def constant_value(node):
        """The value of a literal, a container of them, or arithmetic on them; ValueError else."""
        if isinstance(node, ast.BinOp) and type(node.op) in constant_binary:
            left = constant_value(node.left)
            right = constant_value(node.right)
            constant_size_check(node.op, left, right)
            return constant_binary[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in constant_unary:
            return constant_unary[type(node.op)](constant_value(node.operand))
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if any(isinstance(item, ast.Starred) for item in node.elts):
                raise ValueError('it unpacks with *')
            items = [constant_value(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items) if isinstance(node, ast.Tuple) else set(items)
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise ValueError('it unpacks with **')
            return dict((constant_value(k), constant_value(v)) for k, v in zip(node.keys, node.values))
        return ast.literal_eval(node)

    constant_failures = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, ArithmeticError)

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
        """One output stream of a run, addressed by absolute character positions: the text the
        backend has not acknowledged yet, so a report lost or cut on the way (an output cap) is
        sent again from the last acknowledged position. Acknowledged parts are dropped, so memory
        holds only what is in flight and each character is copied a bounded number of times.
        Lock-free: list append and slice deletion are atomic under the GIL, and a lock could be
        left held by an asynchronous cancellation."""

        def __init__(self):
            self.parts = []
            self.head = 0
            # parts[head:solid] were joined already; later ones are the writes since.
            self.solid = 0
            # Absolute position of parts[head][0], and the end of the last piece reported.
            self.base = 0
            self.sent = 0
            # The JSON length of the last piece taken.
            self.encoded = 2
            # Side files of output not acknowledged yet: position -> (local path, report entry).
            self.files = {}
            # A write is the list's own append (no Python frame): heavy printing calls it per line.
            # The list object stays the same for the life of the capture (edited in place only).
            self.write = self.parts.append

        def ack(self, position):
            """Drops what the backend has; `position` is clamped to what was sent."""
            position = max(self.base, min(position, self.sent))
            parts = self.parts
            while self.head < len(parts) and self.base + len(parts[self.head]) <= position:
                self.base += len(parts[self.head])
                parts[self.head] = None
                self.head += 1
            if self.head > 256 and self.head * 2 > len(parts):
                del parts[:self.head]
                self.solid = max(0, self.solid - self.head)
                self.head = 0
            for at in [at for at, (_, entry) in self.files.items() if at + entry['chars'] <= position]:
                remove_quietly(self.files.pop(at)[0])
            return position

        def coalesce(self):
            """Joins the writes since the last report into one part, so that a report costs
            Python-level work per report rather than per `print`, and each character is joined
            once. Slice assignment is atomic under the GIL: a write landing meanwhile stays after."""
            parts = self.parts
            start = max(self.head, self.solid)
            end = len(parts)
            if end - start > 1:
                parts[start:end] = [''.join(parts[start:end])]
                end = start + 1
            self.solid = end

        def waiting(self, position):
            """How many characters there are after `position` (an acknowledged position)."""
            self.coalesce()
            total = 0
            for index in range(self.head, len(self.parts)):
                total += len(self.parts[index])
            return self.base + total - position

        def take(self, position, room, fit=True):
            """The longest text from `position` whose JSON string form fits `room` characters
            (with `fit` false: the next `room` characters)."""
            self.coalesce()
            parts = self.parts
            offset = position - self.base
            pieces = []
            size = 0
            for index in range(self.head, len(parts)):
                part = parts[index]
                need = room - size
                # Slicing every part to what is still needed keeps one huge print linear.
                if offset or len(part) > need:
                    part = part[offset:offset + need]
                    offset = 0
                pieces.append(part)
                size += len(part)
                if size >= room:
                    break
            text = ''.join(pieces)
            if fit:
                count, self.encoded = fitting(text, room)
                text = text[:count]
            self.sent = position + len(text)
            return text

        def pending(self, position):
            end = self.base
            for index in range(self.head, len(self.parts)):
                end += len(self.parts[index])
                if end > position:
                    return True
            return False

        def whole(self):
            """Everything not yet acknowledged (the script entry acknowledges nothing)."""
            return ''.join(self.parts[self.head:])

    class SwitchInterval(object):
        """Lowers the GIL switch interval while at least one run is active and puts back the
        one it found when the last ends, unless something else changed it meanwhile. No lock:
        the worst a race leaves is the lower interval, which costs nothing without contention."""

        def __init__(self):
            self.active = set()
            self.original = None
            # What the interpreter made of ours (it keeps microseconds).
            self.lowered = None

        def enter(self, run_id):
            self.active.add(run_id)
            current = sys.getswitchinterval()
            if current > busy_switch_interval and current != self.lowered:
                self.original = current
                sys.setswitchinterval(busy_switch_interval)
                self.lowered = sys.getswitchinterval()

        def leave(self, run_id):
            self.active.discard(run_id)
            if self.active or self.original is None:
                return
            if sys.getswitchinterval() == self.lowered:
                sys.setswitchinterval(self.original)
            self.original = None

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
            # The envelope as JSON text, sent in pieces when it does not fit one report.
            self.envelope_text = None
            self.envelope_sent = 0
            self.out = Capture()
            self.err = Capture()
            # The local directory of this run's side files of output, once made.
            self.output_dir = None
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

    def standard_stream(file):
        """'out' or 'err' when `file` is one of the process's standard streams as a run's code
        names them (`sys.stdout`, `sys.stderr` as they are now, their originals, a Router), else
        None: a file the code opened itself."""
        if isinstance(file, Router):
            return file._choppa_stream
        if file is sys.stdout or file is sys.__stdout__:
            return 'out'
        if file is sys.stderr or file is sys.__stderr__:
            return 'err'
        return None

    def routed_print(runner, original):
        """A `print` that sends a run's worker thread's output to the run's capture whoever owns
        `sys.stdout` and `sys.stderr` at that moment: a REPL may swap them per command (a
        `contextlib.redirect_stdout`/`redirect_stderr` around each one), and between two
        commands the Router is not installed, so what the worker printed then, to the default
        stream or to `file=sys.stderr`, would go to the REPL's stream."""

        def print(*values, sep=' ', end='\n', file=None, flush=False):
            run = runner._routes.get(threading.get_ident())
            stream = 'out' if file is None else standard_stream(file)
            if run is None or run.tee or stream is None:
                return original(*values, sep=sep, end=end, file=file, flush=flush)
            if sep is None:
                sep = ' '
            if end is None:
                end = '\n'
            if not isinstance(sep, str) or not isinstance(end, str):
                raise TypeError('sep and end must be None or a string')
            capture = run.out if stream == 'out' else run.err
            # One value is the common call: no list to build and join.
            if len(values) == 1:
                capture.write(str(values[0]) + end)
            else:
                capture.write(sep.join([str(value) for value in values]) + end)

        print._choppa_original = original
        print.__doc__ = original.__doc__
        return print

    class CodeBundles(object):
        """The project code shipped with runs: one content-hashed zip per code version, on
        `sys.path` (and `addPyFile`'d for executors where `spark` exists). Runs of one version
        share its modules; a run of another version waits until those runs are done, then the
        previous version's modules are purged from `sys.modules`, so no run ever imports a
        module of another version."""

        def __init__(self):
            self.cond = threading.Condition()
            self.active = None
            self.users = 0
            self.tops = set()
            self.path = None
            self.added = set()

        def enter(self, bundle):
            with self.cond:
                # Waits in short steps, so a cancellation (an asynchronous exception) gets in.
                while self.users and self.active != bundle['hash']:
                    self.cond.wait(0.2)
                if self.active != bundle['hash']:
                    self._switch(bundle)
                self.users += 1

        def leave(self):
            with self.cond:
                self.users -= 1
                self.cond.notify_all()

        def clear(self):
            """Before a run that ships no project code: the last version's modules leave
            `sys.modules` and `sys.path`, so the function cannot import them by a name the
            bundle did not see (`importlib.import_module(name)`): here they would be whatever
            version ran last, on a fresh cluster they are not there at all. It does not wait
            for runs of a version still under way (most runs ship nothing); those keep theirs."""
            with self.cond:
                if self.users or self.active is None:
                    return
                for name in list(sys.modules):
                    if name.split('.')[0] in self.tops:
                        sys.modules.pop(name, None)
                while self.path in sys.path:
                    sys.path.remove(self.path)
                importlib.invalidate_caches()
                self.active, self.path, self.tops = None, None, set()

        def _switch(self, bundle):
            try:
                local = map_path(bundle['path'])
            except ValueError as exc:
                raise Refusal('ChoppaCodeError', 'the project code path %s: %s' % (bundle['path'], exc))
            digest = hashlib.sha256()
            try:
                with open(local, 'rb') as handle:
                    for block in iter(lambda: handle.read(1 << 20), b''):
                        digest.update(block)
            except OSError as exc:
                raise Refusal('ChoppaCodeError', 'the project code %s cannot be read here (%s)' % (bundle['path'], exc))
            if digest.hexdigest() != bundle['hash']:
                raise Refusal('ChoppaCodeError', 'the project code %s does not match its hash; run again to upload it anew' % bundle['path'])
            tops = set(name.split('.')[0] for name in bundle['modules'])
            stale = tops | self.tops
            for name in list(sys.modules):
                if name.split('.')[0] in stale:
                    sys.modules.pop(name, None)
            if self.path is not None:
                while self.path in sys.path:
                    sys.path.remove(self.path)
            sys.path.insert(0, local)
            importlib.invalidate_caches()
            self.active, self.path, self.tops = bundle['hash'], local, tops
            spark = notebook_value('spark')
            if spark is not None and bundle['hash'] not in self.added:
                try:
                    spark.sparkContext.addPyFile(local)
                    self.added.add(bundle['hash'])
                except Exception:
                    # Serverless and shared clusters may refuse it; the driver still imports.
                    pass

    class Requirements(object):
        """The project's requirements, pip-installed once per hash of their lines into a folder
        this machine keeps (`<CHOPPA_FS_ROOT or tmp>/.choppa-requirements/<hash>`) and reused by
        every later run; installed only when an import of the shipped code is missing here. The
        folder is zipped for executors (`addPyFile`) where `spark` exists."""

        pip_deadline = 900

        def __init__(self):
            self.lock = threading.Lock()
            self.added = set()

        def base(self):
            root = os.environ.get('CHOPPA_FS_ROOT') or tempfile.gettempdir()
            return os.path.join(root, '.choppa-requirements')

        def ensure(self, requirements):
            target = os.path.join(self.base(), requirements['hash'])
            complete = os.path.isfile(os.path.join(target, '.choppa-complete'))
            if complete:
                self._use(target, requirements['hash'])
            missing = [name for name in requirements['imports'] if not self._findable(name)]
            if not missing or complete:
                return
            with self.lock:
                if not os.path.isfile(os.path.join(target, '.choppa-complete')):
                    self._install(requirements, target, missing)
            self._use(target, requirements['hash'])

        def _findable(self, name):
            if name in sys.modules:
                return True
            try:
                import importlib.util
                return importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                return False

        def _install(self, requirements, target, missing):
            os.makedirs(self.base(), exist_ok=True)
            work = tempfile.mkdtemp(prefix=requirements['hash'][:12] + '-', dir=self.base())
            listing = os.path.join(work, 'requirements.txt')
            with open(listing, 'w') as handle:
                handle.write('\n'.join(requirements['lines']) + '\n')
            folder = os.path.join(work, 'site')
            log_path = os.path.join(work, 'pip.log')
            command = [sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input',
                       '--quiet', '--target', folder, '-r', listing]
            with open(log_path, 'wb') as log:
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                deadline = time.monotonic() + self.pip_deadline
                try:
                    # Short waits, so a cancellation of the run gets in and ends pip with it.
                    while process.poll() is None:
                        if time.monotonic() > deadline:
                            raise Refusal('ChoppaRequirementsError', 'pip did not finish installing the requirements within %d s' % self.pip_deadline)
                        time.sleep(0.1)
                except BaseException:
                    process.kill()
                    process.wait()
                    shutil.rmtree(work, ignore_errors=True)
                    raise
            if process.returncode != 0:
                with open(log_path, 'rb') as log:
                    tail = log.read()[-2000:].decode('utf-8', 'replace').strip()
                shutil.rmtree(work, ignore_errors=True)
                raise Refusal('ChoppaRequirementsError', 'pip could not install the requirements (needed for %s): %s' % (', '.join(missing), tail))
            with open(os.path.join(folder, '.choppa-complete'), 'w') as handle:
                handle.write('\n'.join(requirements['lines']) + '\n')
            try:
                os.rename(folder, target)
            except OSError:
                # Another process installed the same hash first: theirs is as good.
                pass
            shutil.rmtree(work, ignore_errors=True)

        def _use(self, target, digest):
            if target not in sys.path:
                sys.path.insert(0, target)
                importlib.invalidate_caches()
            spark = notebook_value('spark')
            if spark is None or digest in self.added:
                return
            wheelhouse = target + '.zip'
            try:
                if not os.path.isfile(wheelhouse):
                    partial = shutil.make_archive(target + '.part', 'zip', target)
                    os.replace(partial, wheelhouse)
                spark.sparkContext.addPyFile(wheelhouse)
                self.added.add(digest)
            except Exception:
                pass

    class Runner(object):
        """The runner's one object. `start`/`poll`/`cancel` return one line of JSON each."""

        def __init__(self):
            self.version = version
            self.map_path = map_path
            self._routes = {}
            self._runs = collections.OrderedDict()
            self._values = collections.OrderedDict()
            self._value_bytes = collections.OrderedDict()
            self.kept_value_bytes = kept_value_bytes
            self._lock = threading.Lock()
            self._bundles = CodeBundles()
            self._requirements = Requirements()
            self._switching = SwitchInterval()

        def info(self):
            """The interpreter this runner lives in, as JSON."""
            return json.dumps({
                'runner_version': version,
                'python': '%d.%d.%d' % tuple(sys.version_info[:3]),
                'pid': os.getpid(),
                'executable': sys.executable,
            })

        def missing(self, names_b64):
            """Which of the top-level modules named (base64 JSON list) cannot be imported here,
            with the requirement folders already installed on the path; as JSON."""
            try:
                names = json.loads(base64.b64decode(names_b64).decode('utf-8'))
            except Exception:
                names = None
            if not isinstance(names, list):
                return json.dumps({'error': 'expected a base64 JSON list of module names'})
            names = [name for name in names[:1000] if isinstance(name, str) and name.isidentifier()]
            return json.dumps({'missing': [name for name in names if not self._requirements._findable(name)]})

        def start(self, payload_b64, budget=None, spill=None):
            """Starts a run in a worker thread and returns its first report (with `spill` as in
            `poll`). Starting a run_id that is already known returns that run's report instead
            (a retried command)."""
            self._install_routers()
            return json.dumps(self._report(self._start(payload_b64, tee=False), None, budget, spill))

        def poll(self, run_id, out=None, err=None, envelope=None, budget=None, spill=None):
            """The run's report: output after the acknowledged positions `out`/`err` (None: after
            what the last report carried), the state, and once done the envelope (from character
            `envelope` of its JSON on, when it takes several reports). At most `budget` characters.
            With `spill`, a stream with at least that many characters waiting goes into a side
            file under the artifact dir instead (`stdout_file`), read back by the backend."""
            self._install_routers()
            run = self._runs.get(run_id)
            if run is None:
                return json.dumps({'run_id': run_id, 'state': 'unknown'})
            return json.dumps(self._report(run, (out, err, envelope), budget, spill))

        def cancel(self, run_id, out=None, err=None, envelope=None, budget=None, spill=None):
            """Interrupts a run's worker thread and its Spark jobs (the run ends `cancelled`);
            returns the run's report like `poll` (the same arguments, `spill` included)."""
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
            return json.dumps(self._report(run, (out, err, envelope), budget, spill))

        def run(self, payload_b64, tee=False):
            """Starts a run, waits for it, and returns its whole output and envelope at once
            (the script entry and tests; it has no budget)."""
            self._install_routers()
            run = self._start(payload_b64, tee=tee)
            run.finished.wait()
            return json.dumps({
                'run_id': run.id, 'state': 'done', 'stdout': run.out.whole(),
                'stderr': run.err.whole(), 'envelope': run.envelope})

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
            pid_file = os.environ.get('CHOPPA_JOB_PID_FILE')
            if pid_file:
                # A local job says which process it is, so a server that died before recording
                # the pid still finds (and can cancel) the job.
                try:
                    write_atomically(pid_file, str(os.getpid()).encode('ascii'))
                except OSError:
                    pass
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
            current_print = builtins.print
            if getattr(current_print, '_choppa_runner', None) is not self:
                original = getattr(current_print, '_choppa_original', current_print)
                builtins.print = routed_print(self, original)
                builtins.print._choppa_runner = self
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
            self._switching.enter(run.id)
            thread = threading.Thread(
                target=self._work, args=(run,), name='choppa-%s' % run.id, daemon=True)
            try:
                thread.start()
            except BaseException:
                self._switching.leave(run.id)
                raise
            return run

        def _remember(self, run):
            self._runs[run.id] = run
            self._runs.move_to_end(run.id)
            finished = [k for k, r in self._runs.items() if r.state == 'done']
            for key in finished[:max(0, len(finished) - kept_runs)]:
                del self._runs[key]

        def _report(self, run, acks, budget, spill=None):
            """One report of at most `budget` characters of JSON: output from the acknowledged
            positions (None: from where the last report ended), then the envelope, inline when it
            fits and else in pieces (`envelope_part`) over as many reports as it takes. `more`
            says the next poll has something at once."""
            if not isinstance(budget, int) or isinstance(budget, bool):
                budget = default_budget
            budget = max(min_budget, budget)
            out_ack, err_ack, envelope_ack = acks or (None, None, None)
            # State first: output written before the run ended is then never reported after
            # the envelope.
            state = run.state
            out_at = run.out.ack(run.out.sent if out_ack is None else out_ack)
            err_at = run.err.ack(run.err.sent if err_ack is None else err_ack)
            room = budget - report_overhead - len(run.id)
            files = {}
            for name, capture, at in (('stdout', run.out, out_at), ('stderr', run.err, err_at)):
                entry = self._spill(run, capture, name, at, spill)
                if entry is not None:
                    files[name + '_file'] = entry
                    room -= 300 + len(entry['path'])
            err_share = room // 2 if 'stderr_file' not in files and run.err.pending(err_at) else 0
            stdout = ''
            if 'stdout_file' not in files:
                stdout = run.out.take(out_at, room - err_share)
                room -= run.out.encoded
            stderr = ''
            if 'stderr_file' not in files:
                stderr = run.err.take(err_at, room)
                room -= run.err.encoded
            report = {
                'run_id': run.id, 'state': state, 'stdout': stdout, 'stderr': stderr,
                'out_at': out_at, 'out': run.out.sent, 'err_at': err_at, 'err': run.err.sent}
            report.update(files)
            # A side file keeps the run from ending in this report: the poll acknowledging it
            # removes the file.
            drained = not (files or run.out.pending(run.out.sent) or run.err.pending(run.err.sent))
            # `done` only once all output and the whole envelope went out, so a poller that stops
            # at `done` saw it all.
            if state == 'done' and drained:
                if run.envelope_text is None:
                    run.envelope_text = json.dumps(run.envelope)
                text = run.envelope_text
                at = run.envelope_sent if envelope_ack is None else max(0, min(envelope_ack, len(text)))
                if at == 0 and len(text) <= room:
                    report['envelope'] = run.envelope
                    run.envelope_sent = len(text)
                    return report
                piece = text[at:at + fitting(text[at:at + room], room - 60)[0]]
                run.envelope_sent = at + len(piece)
                report['envelope_part'] = {'at': at, 'text': piece, 'size': len(text)}
                if run.envelope_sent < len(text):
                    report['state'] = 'cancelling' if run.cancel_requested else 'running'
                    report['more'] = True
                return report
            if state == 'done':
                report['state'] = 'cancelling' if run.cancel_requested else 'running'
            report['more'] = not drained
            return report

        def _spill(self, run, capture, name, position, threshold):
            """Writes the output waiting after `position` to a side file when there is at least
            `threshold` of it, so that heavy output takes one file read instead of many
            budget-sized reports; None when it stays inline (no threshold, not enough, or the
            artifact dir cannot be written). A repeated poll from the same position gets the
            same file; it is removed once acknowledged."""
            if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold <= 0:
                return None
            known = capture.files.get(position)
            if known is not None:
                capture.sent = position + known[1]['chars']
                return known[1]
            if capture.waiting(position) < threshold:
                return None
            try:
                logical_dir, local_dir = artifact_location(run.payload)
            except Refusal:
                return None
            text = capture.take(position, spill_chars_max, fit=False)
            relative = '.choppa/output/%s/%s-%d.txt' % (run.id, name, position)
            local = '%s/%s' % (local_dir, relative)
            data = text.encode('utf-8', 'surrogatepass')
            try:
                # Made once a run: each call is a few blocking calls more.
                if run.output_dir != os.path.dirname(local):
                    os.makedirs(os.path.dirname(local), exist_ok=True)
                    run.output_dir = os.path.dirname(local)
                write_atomically(local, data)
            except OSError:
                capture.sent = position
                return None
            entry = {'path': '%s/%s' % (logical_dir, relative), 'at': position, 'chars': len(text), 'bytes': len(data)}
            capture.files[position] = (local, entry)
            return entry

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
            self._switching.leave(run.id)
            elapsed = time.monotonic() - run.started
            if run.cancel_requested or outcome is None:
                outcome = {'status': 'cancelled'}
            self._finish(run, outcome, elapsed)

        def _finish(self, run, outcome, elapsed):
            # The envelope never repeats the output: it went out in the reports.
            envelope = dict(outcome)
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
            run.bundled = False
            try:
                return self._execute_bundled(run, payload, filename)
            finally:
                if run.bundled:
                    self._bundles.leave()

        def _execute_bundled(self, run, payload, filename):
            try:
                with run.lock:
                    if run.cancel_requested:
                        raise ChoppaCancelled()
                    run.phase = 'user'
                try:
                    value = self._call(payload, filename, run)
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
                return {'status': 'error', 'error': user_error(exc, filename, payload['source'], payload.get('bundle'))}
            try:
                return self._result(run, value)
            except Refusal as refusal:
                return failure(refusal.kind, refusal.message)

        def _call(self, payload, filename, run=None):
            args, kwargs = self._arguments(payload)
            if payload.get('requirements') is not None:
                self._requirements.ensure(payload['requirements'])
            if payload.get('bundle') is not None:
                self._bundles.enter(payload['bundle'])
                run.bundled = True
            else:
                self._bundles.clear()
            if payload['mode'] != 'remote' or payload['result_size_max'] is not None:
                artifact_location(payload)
            source = payload['source']
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            code = compile(source, filename, 'exec', __future__.annotations.compiler_flag, True)
            scope = {'__name__': '__choppa__', '__builtins__': builtins}
            if payload.get('bundle') is not None and payload['bundle'].get('package'):
                # Relative imports in the function resolve against its own package, shipped.
                scope['__package__'] = payload['bundle']['package']
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
            by_value = payload['args_values']
            literals = payload['args_literals']
            wrapped = 'f(' + text + ')'

            def load_value(name, encoded):
                try:
                    return pickle.loads(base64.b64decode(encoded))
                except Exception as exc:
                    raise Refusal(
                        'ChoppaArgumentError',
                        'argument `%s`: the earlier result passed by value could not be loaded '
                        'here (%s: %s); run the call that made it again'
                        % (name, type_name(type(exc)), exc))

            def load_literal(name, source):
                try:
                    return constant_value(ast.parse(source, mode='eval').body)
                except constant_failures as exc:
                    why = str(exc) if isinstance(exc, CostlyConstant) else '%s: %s' % (type_name(type(exc)), exc)
                    raise Refusal(
                        'ChoppaArgumentError',
                        'argument `%s`: the module constant `%s = %s` cannot be computed here '
                        '(%s)' % (name, name, source, why))
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
                    if node.id in by_value:
                        return load_value(node.id, by_value[node.id])
                    if node.id in literals:
                        return load_literal(node.id, literals[node.id])
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
                    return constant_value(node)
                except (ArithmeticError, CostlyConstant) as exc:
                    segment = ast.get_source_segment(wrapped, node) or ast.dump(node)
                    why = str(exc) if isinstance(exc, CostlyConstant) else 'cannot be computed (%s: %s)' % (type_name(type(exc)), exc)
                    raise Refusal(
                        'ChoppaArgumentError',
                        'argument `%s` %s; compute it inside the function' % (segment, why))
                except constant_failures:
                    raise refused(node)

            def refused(node):
                segment = ast.get_source_segment(wrapped, node) or ast.dump(node)
                return Refusal(
                    'ChoppaArgumentError',
                    'argument `%s` is not a literal, arithmetic on literals, or the result of an '
                    'earlier remote call; only functions and their arguments reach the cluster: '
                    'write the value itself, or compute it inside the function' % segment)

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
                        self._value_bytes.move_to_end(ref['run_id'])
                        return self._values[ref['run_id']]
                call = ref.get('call') if isinstance(ref.get('call'), str) else 'run %s' % ref['run_id']
                raise Refusal(
                    'ChoppaArgumentError',
                    'argument `%s` is the result of `%s`, which was too large to keep with its '
                    'record and which this Python process no longer holds (it was restarted or '
                    'the value was evicted); run `%s` again' % (name, call, call))
            raise Refusal(
                'ChoppaPayloadError', 'argument `%s` has a malformed reference %r' % (name, ref))

        def _result(self, run, value):
            payload = run.payload
            preview = pretty_repr(value, safe_repr(value))
            table = table_preview(value)
            kind = type_name(type(value))
            if payload['mode'] != 'remote':
                stored = store_artifact(payload, value, kind, preview, table)
                return stored if stored.get('status') == 'error' else {'status': 'ok', 'ref': stored}
            limit = payload['result_size_max']
            # Small pickles are kept to travel back by value; `spill_after` keeps them in memory.
            sink = PickleSink(payload, spill_after=limit, keep_upto=by_value_max)
            try:
                pickle.dump(value, sink, protocol=4)
            except Refusal:
                raise
            except Exception as exc:
                # Nothing that does not pickle can come back from a real cluster either.
                sink.discard()
                return unpicklable(payload, value, kind, exc)
            size = sink.size
            if sink.spilled():
                return {'status': 'ok', 'ref': sink.commit(kind, preview, table)}
            info = {'repr': preview, 'type': kind, 'size': size}
            if table is not None:
                info['table'] = table
            if size <= by_value_max and sink.buffer is not None:
                info['pickle'] = base64.b64encode(b''.join(sink.buffer)).decode('ascii')
            sink.discard()
            if size <= 4 * json_max:
                try:
                    text = json.dumps(value, allow_nan=False)
                except (TypeError, ValueError, RecursionError):
                    text = None
                if text is not None and len(text.encode('utf-8')) <= json_max:
                    info['json'] = json.loads(text)
            with self._lock:
                if size <= self.kept_value_bytes:
                    self._values[run.id] = value
                    self._value_bytes[run.id] = size
                while self._values and (len(self._values) > kept_values
                                        or sum(self._value_bytes.values()) > self.kept_value_bytes):
                    oldest, _ = self._values.popitem(last=False)
                    self._value_bytes.pop(oldest, None)
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
        payload.setdefault('args_values', {})
        payload.setdefault('args_literals', {})
        if not isinstance(payload['args_source'], str) or not isinstance(payload['args_refs'], dict):
            raise bad('args_source must be a string and args_refs an object')
        for field in ('args_values', 'args_literals'):
            table = payload[field]
            if not isinstance(table, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
                raise bad('%s must map argument names to strings' % field)
        limit = payload.get('result_size_max', payload.get('max_result_size'))
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise bad('result_size_max %r is not a byte count' % (limit,))
        payload['result_size_max'] = limit
        if not isinstance(payload.get('artifact_dir', ''), str):
            raise bad('artifact_dir must be a string')
        bundle = payload.get('bundle')
        if bundle is not None:
            modules = bundle.get('modules') if isinstance(bundle, dict) else None
            if (not isinstance(bundle, dict) or not isinstance(bundle.get('path'), str)
                    or not isinstance(bundle.get('hash'), str) or not re.match(r'[0-9a-f]{64}\Z', bundle['hash'])
                    or not isinstance(modules, list) or len(modules) > 10000
                    or not all(isinstance(name, str) and all(part.isidentifier() for part in name.split('.')) for name in modules)):
                raise bad('bundle must be {path, hash (sha256 hex), modules (dotted names)}')
            package = bundle.get('package')
            if package is not None and (not isinstance(package, str) or not all(part.isidentifier() for part in package.split('.'))):
                raise bad('bundle package %r is not a dotted name' % (package,))
        payload['bundle'] = bundle
        requirements = payload.get('requirements')
        if requirements is not None:
            if (not isinstance(requirements, dict) or not isinstance(requirements.get('hash'), str)
                    or not re.match(r'[0-9a-f]{64}\Z', requirements['hash'])
                    or not isinstance(requirements.get('lines'), list) or len(requirements['lines']) > 500
                    or not all(isinstance(line, str) and '\n' not in line for line in requirements['lines'])
                    or not isinstance(requirements.get('imports'), list)
                    or not all(isinstance(name, str) and name.isidentifier() for name in requirements['imports'])):
                raise bad('requirements must be {hash (sha256 hex), lines, imports (module names)}')
            if hashlib.sha256('\n'.join(requirements['lines']).encode('utf-8')).hexdigest() != requirements['hash']:
                raise bad('the requirements hash does not match their lines')
        payload['requirements'] = requirements
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
        `spill_after`, then streams them into a temp file beside the artifact, so small results
        never touch storage and big ones never sit in memory. With `spill_after` None it never
        spills and keeps the bytes only while they are at most `keep_upto`."""

        def __init__(self, payload, spill_after, keep_upto=0):
            self.payload = payload
            self.spill_after = spill_after
            self.keep_upto = keep_upto
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
            elif self.buffer is not None:
                if self.size <= self.keep_upto:
                    self.buffer.append(bytes(data))
                else:
                    self.buffer = None
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
            return unpicklable(payload, value, kind, exc)
        if not sink.spilled():
            sink._spill()
        return sink.commit(kind, preview, table)

    def return_line(source, function_name):
        """The line (of the shipped source) of the function's one `return`, else of its first
        `yield` for a generator, else its `def` line."""
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return 1
        definition = next((node for node in tree.body if isinstance(node, ast.FunctionDef)
                           and node.name == function_name), None)
        if definition is None:
            return 1
        returns, yields = [], []
        pending = list(definition.body)
        while pending:
            node = pending.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Return):
                returns.append(node.lineno)
            elif isinstance(node, (ast.Yield, ast.YieldFrom)):
                yields.append(node.lineno)
            pending.extend(ast.iter_child_nodes(node))
        if len(returns) == 1:
            return returns[0]
        if yields and not returns:
            return min(yields)
        return definition.lineno

    def unpicklable(payload, value, kind, exc):
        source = payload['source']
        line = return_line(source, payload['function_name'])
        lines = source.splitlines()
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ''
        what = 'a generator' if isinstance(value, types.GeneratorType) else 'of type %s' % kind
        message = (
            'the result of %s is %s, which cannot be pickled, so it cannot come back from where '
            'it ran (%s: %s); return a picklable value instead (a list, a dict, a DataFrame...)'
            % (payload['function_name'], what, type_name(type(exc)), str(exc)[:500]))
        return {'status': 'error', 'error': {
            'type': 'ChoppaPicklingError', 'message': message, 'origin': 'remote',
            'frames': [{'line': line, 'function': payload['function_name'], 'text': text}]}}

    def failure(kind, message):
        return {'status': 'error', 'error': {
            'type': kind, 'message': clipped(message, error_text_max), 'frames': [], 'origin': 'remote'}}

    def internal_error(exc):
        text = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-frames_kept))
        return {'status': 'error', 'error': {
            'type': 'ChoppaRunnerError',
            'message': clipped('the runner failed: %s: %s' % (type_name(type(exc)), exc), error_text_max),
            'frames': [], 'traceback': clipped(text, error_text_max), 'origin': 'backend'}}

    def in_bundle(path):
        """Whether a path points inside a shipped code zip (`.../.choppa/code/<sha>.zip/...`)."""
        text = path if isinstance(path, str) else ''
        marker = '%s.choppa%scode%s' % (os.sep, os.sep, os.sep)
        return marker in text and '.zip' + os.sep in text

    def unshipped(exc, bundle):
        """The module an ImportError names when its package shipped with the run but it did not."""
        if not isinstance(exc, ImportError) or not bundle or not isinstance(getattr(exc, 'name', None), str):
            return None
        shipped = set(bundle.get('modules') or ())
        tops = set(name.split('.')[0] for name in shipped)
        if isinstance(exc, ModuleNotFoundError):
            return exc.name if exc.name.split('.')[0] in tops and exc.name not in shipped else None
        # `from pkg import name`: neither a name `pkg` defines nor a module of it that shipped.
        match = re.match(r"cannot import name '([A-Za-z_][A-Za-z0-9_]*)'", str(exc))
        return '%s.%s' % (exc.name, match.group(1)) if match and exc.name in shipped else None

    def user_error(exc, filename, source, bundle=None):
        lines = source.splitlines()

        def text_at(line):
            return clipped(lines[line - 1].strip(), frame_text_max) if line and 0 < line <= len(lines) else ''

        # A walk over the traceback's links, without reading source for every frame as
        # extract_tb does: a deep recursion costs one step a frame and keeps 2 * frames_kept.
        first = []
        last = collections.deque(maxlen=frames_kept)
        seen = 0
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == filename and tb.tb_lineno:
                seen += 1
                entry = (tb.tb_lineno, code.co_name)
                if len(first) < frames_kept:
                    first.append(entry)
                else:
                    last.append(entry)
            tb = tb.tb_next
        omitted = seen - len(first) - len(last)
        frames = [
            {'line': line, 'function': name, 'text': text_at(line)} for line, name in first + list(last)]
        try:
            message = str(exc)
        except Exception as failure:
            message = '<str() of the exception failed: %s>' % type_name(type(failure))
        if isinstance(exc, SyntaxError) and exc.filename == filename:
            message = exc.msg
            frames.append({
                'line': exc.lineno or 1, 'function': '<module>',
                'text': clipped((exc.text or text_at(exc.lineno)).strip(), frame_text_max)})
        missing = unshipped(exc, bundle)
        if missing:
            message += (' (%s is not among the project modules shipped with this run: only the .py files of the '
                        'workspace that the function\'s imports reach ship, not a module named at run time, a '
                        'compiled-only one, or one .gitignore leaves out)' % missing)
        if isinstance(exc, OSError) and (in_bundle(exc.filename) or in_bundle(message)):
            # A path beside a shipped module (`__file__`, importlib.resources): only modules ship.
            message += (' (a data file beside the project\'s modules: only Python modules ship with a run, '
                        'in a zip; read data from a volume or workspace file, or pass it as an argument)')
        # The printed traceback starts at the user's first frame, without the runner's own, and
        # shows the innermost frames where a deep one would be too long.
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != filename:
            tb = tb.tb_next
        limit = -frames_kept if seen > 2 * frames_kept else None
        printed = ''.join(traceback.format_exception(type(exc), exc, tb, limit=limit))
        if limit is not None:
            printed = '[... %d outer frames omitted ...]\n%s' % (seen - frames_kept, printed)
        error = {
            'type': type_name(type(exc)), 'message': clipped(message, error_text_max), 'frames': frames,
            'traceback': clipped(printed, error_text_max), 'origin': 'remote'}
        if omitted:
            error['frames_omitted'] = omitted
        return error

    runner = Runner()
    namespace['_choppa_runner'] = runner
    return runner


_choppa_install(globals())
del _choppa_install

if __name__ == '__main__' and '--payload-file' in __import__('sys').argv[1:]:
    raise SystemExit(_choppa_runner.main(__import__('sys').argv[1:]))
