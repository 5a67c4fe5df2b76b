# The emulator's stand-in for a Databricks Python execution context: one long-lived process that
# runs each command like a notebook cell in a persistent `__main__` namespace. Commands arrive as
# JSON lines on fd 3 and results leave on fd 4, so nothing user code prints can corrupt them. It is
# loaded as a module (not as __main__) so that none of its names leak into the user namespace.
import ast
import contextlib
import html
import io
# Taken at start: the service's REPL protocol does not live in the user's interpreter, so code
# that replaces json.dumps there must not break it here either.
from json import dumps as json_dumps, loads as json_loads
import linecache
import os
import signal
import sys
import threading
import traceback
import __main__

COMMAND_FILE = '<command--1>'
RULE = '-' * 75

state = {'executing': False, 'cell': None, 'swap': False}


def on_sigint(signum, frame):
    # Only a running cell is interruptible, like IPython; a stray SIGINT between cells is ignored.
    if state['executing']:
        raise KeyboardInterrupt()


class CellStream(io.TextIOBase):
    """Stays installed as sys.stdout/sys.stderr for the life of the process, so wrappers that user
    code (or runner.py) puts around it keep working across cells. Writes from the main thread during
    a cell go to that cell's output; everything else goes to the real stream."""

    def __init__(self, real):
        self._real = real

    def writable(self):
        return True

    def write(self, text):
        cell = state['cell']
        if cell is not None and threading.current_thread() is threading.main_thread():
            cell.append(text)
        else:
            self._real.write(text)
        return len(text)

    def flush(self):
        self._real.flush()

    @property
    def encoding(self):
        return 'utf-8'

    def fileno(self):
        return self._real.fileno()


def ansi(code, text):
    return '\x1b[%sm%s\x1b[0m' % (code, text)


def summary_of(etype, value):
    return "<span class='ansi-red-fg'>%s</span>: %s" % (html.escape(etype.__name__), html.escape(str(value)))


def user_frames(tb):
    # The driver's own frames (exec of the cell) are not part of what a notebook shows.
    frames = traceback.extract_tb(tb)
    return [frame for frame in frames if frame.filename != __file__]


def verbose_cause(etype, value, tb):
    """IPython's "verbose" traceback as DBR shows it: a red rule, the type, then one block per
    frame (`<file> in <func>()` and numbered source lines, the current one marked `---->`)."""
    name = etype.__name__
    parts = [ansi('0;31', RULE), ansi('0;31', name) + ' ' * max(1, 42 - len(name)) + 'Traceback (most recent call last)']
    blocks = []
    for frame in user_frames(tb):
        lines = [ansi('0;32', frame.filename) + ' in ' + ansi('0;36', frame.name) + ansi('0;34', '()')]
        lineno = frame.lineno or 0
        for number in range(max(1, lineno - 2), lineno + 3):
            text = linecache.getline(frame.filename, number)
            if text == '':
                continue
            text = text.rstrip('\n')
            if number == lineno:
                lines.append(ansi('0;32', '---> %d' % number) + ' ' + ansi('0;31', text))
            else:
                lines.append(ansi('1;32', '%7d' % number) + ' ' + text)
        blocks.append('\n'.join(lines))
    text = '\n'.join(parts)
    if blocks:
        text += '\n' + '\n\n'.join(blocks)
    return text + '\n\n' + ansi('0;31', name) + ': ' + str(value)


def syntax_cause(etype, value, tb):
    """The plain-style traceback DBR shows for a SyntaxError (the second recorded sample)."""
    lines = ['Traceback ' + ansi('0;36', '(most recent call last)') + ':']
    for frame in user_frames(tb):
        lines.append('  File ' + ansi('1;32', '"%s"' % frame.filename) + ', line ' + ansi('1;32', str(frame.lineno)) + ', in ' + frame.name)
        if frame.line:
            lines.append('    ' + frame.line.strip())
    lines.append('  File ' + ansi('1;32', '"%s"' % (value.filename or COMMAND_FILE)) + ', line ' + ansi('1;32', str(value.lineno)))
    if value.text:
        lines.append('    ' + value.text.rstrip('\n').strip())
        if value.offset:
            indent = len(value.text.rstrip('\n')) - len(value.text.rstrip('\n').lstrip())
            lines.append('    ' + ' ' * max(0, value.offset - 1 - indent) + '^')
    lines.append(ansi('0;31', etype.__name__) + ': ' + str(value.msg))
    return '\n'.join(lines)


def error_results(etype, value, tb):
    if issubclass(etype, SyntaxError):
        cause = syntax_cause(etype, value, tb)
    else:
        cause = verbose_cause(etype, value, tb)
    return {'resultType': 'error', 'summary': summary_of(etype, value), 'cause': cause}


class CellBuffer(io.TextIOBase):
    """The per-command stream of a swapping REPL: whatever any thread writes while it is
    installed belongs to the cell, as with `contextlib.redirect_stdout(io.StringIO())`."""

    def __init__(self, output):
        self._output = output

    def writable(self):
        return True

    def write(self, text):
        self._output.append(text)
        return len(text)


def run_cell(source, count):
    if not state['swap']:
        return run_cell_in(source, count, contextlib.ExitStack(), [])
    output = []
    # A REPL built on redirect_stdout: each command gets its own streams, and the previous
    # ones are back in place as soon as the command ends.
    streams = contextlib.ExitStack()
    streams.enter_context(contextlib.redirect_stdout(CellBuffer(output)))
    streams.enter_context(contextlib.redirect_stderr(CellBuffer(output)))
    return run_cell_in(source, count, streams, output)


def run_cell_in(source, count, streams, output):
    namespace = __main__.__dict__
    # Registering the text lets tracebacks show the cell's own source lines.
    linecache.cache[COMMAND_FILE] = (len(source), None, source.splitlines(True), COMMAND_FILE)
    state['cell'] = output
    state['executing'] = True
    value = None
    try:
        with streams:
            run_code(source, namespace, count)
            value = state.pop('value', None)
    except KeyboardInterrupt:
        state['executing'] = False
        state['cell'] = None
        return {'cancelled': True}
    except BaseException:
        state['executing'] = False
        state['cell'] = None
        etype, evalue, tb = sys.exc_info()
        return {'results': error_results(etype, evalue, tb)}
    state['executing'] = False
    state['cell'] = None
    text = ''.join(output)
    if value is not None:
        if text and not text.endswith('\n'):
            text += '\n'
        text += 'Out[%d]: %s' % (count, repr(value))
    # The service drops the final newline (go-sdk fixture: print("done") gives data "done").
    if text.endswith('\n'):
        text = text[:-1]
    return {'results': {'resultType': 'text', 'data': text}}


def run_code(source, namespace, count):
    tree = ast.parse(source, filename=COMMAND_FILE, mode='exec')
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, COMMAND_FILE, 'exec'), namespace)
    if last is not None:
        state['value'] = eval(compile(last, COMMAND_FILE, 'eval'), namespace)


def main():
    commands = os.fdopen(3, 'rb')
    answers = os.fdopen(4, 'wb')
    # `--swap-stdout`: a REPL that swaps the streams per command; otherwise one stream for
    # the life of the process.
    state['swap'] = '--swap-stdout' in sys.argv[2:]
    if not state['swap']:
        sys.stdout = CellStream(sys.stdout)
        sys.stderr = CellStream(sys.stderr)
    signal.signal(signal.SIGINT, on_sigint)
    sys.argv = ['']
    answers.write(b'{"ready": true}\n')
    answers.flush()
    while True:
        try:
            line = commands.readline()
        except KeyboardInterrupt:
            continue
        if not line:
            return
        message = json_loads(line)
        answer = run_cell(message['command'], message['count'])
        answer['id'] = message['id']
        answers.write(json_dumps(answer).encode('utf-8') + b'\n')
        answers.flush()

