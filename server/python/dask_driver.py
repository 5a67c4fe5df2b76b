# The Dask backend's warm local process: executed once in the host loop of
# `backends/local/python-process.ts`, it holds one `distributed.Client` and defines `_choppa_dask`,
# which answers the same start/poll/cancel reports as the runner while the runner itself runs on a
# worker (`client.submit`). Results stay on the cluster: values in the worker's runner, refs as
# published datasets holding the pickle's future. Only Dask's own API is used.


def _choppa_dask_install(namespace):
    import base64
    import collections
    import hashlib
    import json
    import os
    import threading
    import time
    import uuid

    import distributed
    from distributed import Client, Event, fire_and_forget, get_client, get_worker
    from distributed.diagnostics.plugin import WorkerPlugin

    artifact_prefix = 'choppa-artifact:'
    submit_prefix = 'choppa-submit:'
    token_prefix = 'choppa-submit-token:'
    # A run's first start, claimed on the scheduler before user code runs: Dask runs a task again
    # from the start when the worker running it dies, and makes a published result again when the
    # worker holding it dies; the second start finds the claim and refuses (`lost_run`).
    started_prefix = 'choppa-started:'
    lost_tag = 'choppa-run-lost'
    # Where the runner on a worker stages pickles it loads or writes, under the worker's own
    # CHOPPA_FS_ROOT: argument files and the take-run's output never collide with user paths.
    staging_dir = '/Workspace/.choppa-dask'
    output_keep = 1 << 20
    # What one run may forward as live output: events stay in the scheduler's event log
    # (`distributed.scheduler.events-log-length` per topic), so a run's share of it is capped.
    forward_max = 4 << 20
    event_chunk = 64 * 1024
    kept_runs = 64
    kept_holders = 256
    fetch_chunk = 8 << 20
    # The worker's runner answers over a function call (no output cap): big reports, few polls.
    worker_budget = 1 << 20
    kept_bundles = 16

    class RunnerPlugin(WorkerPlugin):
        """Executes runner.py once per worker process (its own namespace) and gives the worker a
        private CHOPPA_FS_ROOT for the files the runner stages; a new worker gets it too."""

        def __init__(self, source, digest):
            self.source = source
            self.digest = digest
            self.runner = None

        def setup(self, worker):
            import os as _os
            import sys as _sys
            import types as _types
            root = _os.path.join(worker.local_directory, 'choppa-fs')
            _os.makedirs(root, exist_ok=True)
            # The runner maps storage paths under this root at each call.
            _os.environ.setdefault('CHOPPA_FS_ROOT', root)
            # Every driver that connects registers the plugin again (Dask then tears the old
            # instance down): the runner lives in a per-process scope, so executing runner.py
            # again keeps the first runner, its held values and its runs.
            runtime = _sys.modules.get('_choppa_dask_runtime')
            if runtime is None:
                runtime = _types.ModuleType('_choppa_dask_runtime')
                runtime.scopes = {}
                _sys.modules['_choppa_dask_runtime'] = runtime
            scope = runtime.scopes.setdefault(self.digest, {'__name__': 'choppa_runner'})
            exec(compile(self.source, 'runner.py', 'exec'), scope)
            self.runner = scope['_choppa_runner']

    class BundlePlugin(WorkerPlugin):
        """Writes a bundle of project code where the worker's runner maps its storage path (under
        the worker's own CHOPPA_FS_ROOT), on every worker and on those that join later; the
        runner checks its sha256 before it puts it on sys.path."""

        def __init__(self, path, data, runner_plugin):
            self.path = path
            self.data = data
            self.runner_plugin = runner_plugin

        def setup(self, worker):
            local = worker_runner(self.runner_plugin, worker).map_path(self.path)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            partial = '%s.%s.part' % (local, uuid.uuid4().hex[:8])
            with open(partial, 'wb') as handle:
                handle.write(self.data)
            os.replace(partial, local)

    def missing_task(names_b64, plugin_name):
        """Which of the named modules the runner of this worker cannot import (its JSON)."""
        return worker_runner(plugin_name).missing(names_b64)

    def worker_runner(plugin_name, worker=None):
        worker = worker or get_worker()
        plugin = worker.plugins.get(plugin_name)
        if plugin is None or getattr(plugin, 'runner', None) is None:
            raise RuntimeError('the choppa runner is not installed on worker %s' % worker.address)
        return plugin.runner

    def stage_inputs(runner, run_id, inputs, refs):
        """Writes each argument's pickle where the runner loads {path} refs from; returns the
        local files to remove after the run."""
        written = []
        for name, blob in inputs.items():
            logical = '%s/inputs/%s/%s.pkl' % (staging_dir, run_id, name)
            local = runner.map_path(logical)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, 'wb') as handle:
                handle.write(blob)
            written.append(local)
            refs[name] = {'path': logical}
        return written

    def take_pickle(runner, ref):
        """Reads a ref's pickle the runner wrote on this worker, and removes it and its sidecar."""
        local = runner.map_path(ref['path'])
        try:
            with open(local, 'rb') as handle:
                blob = handle.read()
        finally:
            for path in (local, local[:-len('.pkl')] + '.json'):
                try:
                    os.remove(path)
                except OSError:
                    pass
        if len(blob) != ref['size'] or hashlib.sha256(blob).hexdigest() != ref['sha256']:
            raise RuntimeError('the pickle of %s changed on the worker before it was read' % ref['path'])
        return blob

    def claim_start(payload):
        """Claims the run's first start on the scheduler (publishing an existing name fails,
        atomically); a start after a lost worker raises instead of running user code again."""
        try:
            get_client().publish_dataset(**{started_prefix + payload['run_id']: payload['function_name']})
        except KeyError:
            raise RuntimeError(lost_tag, payload['run_id'], payload['function_name'])

    def lost_run(exc):
        """(run id, function name) of a run refused a second start, else None."""
        args = getattr(exc, 'args', ())
        if isinstance(exc, RuntimeError) and len(args) == 3 and args[0] == lost_tag:
            return args[1], args[2]
        return None

    def lost_artifact(path):
        return ('the artifact %s was lost with the Dask worker that held it (Dask would have made '
                'it again by running its function a second time, with other data); run the '
                'function that made it again' % path)

    def worker_json():
        """JSON for the runner's reports on a worker, made from the json classes: a function
        run there may have replaced `json.dumps` or `json.loads` in the worker's process."""
        return json.JSONEncoder().encode, json.JSONDecoder().decode

    def execute(payload, inputs, plugin_name, cancel_name, topic, queued_since=None):
        """Runs one payload with the worker's runner, forwarding output to `topic` (when set) and
        watching the cancel Event; returns (envelope, pickle bytes of a ref or None)."""
        dumps, loads = worker_json()
        worker = get_worker()
        runner = worker_runner(plugin_name)
        run_id = payload['run_id']
        # A run that waited in the queue may have been cancelled meanwhile: ask before starting
        # (one RPC, only for runs that did wait).
        if cancel_name is not None and queued_since is not None and time.time() - queued_since > 0.5:
            if Event(cancel_name, client=get_client()).is_set():
                return {'status': 'cancelled', 'stdout': '', 'stderr': '', 'durationMs': 0}, None, None
        claim_start(payload)
        refs = dict(payload.get('args_refs') or {})
        files = stage_inputs(runner, run_id, inputs, refs)
        payload = dict(payload, args_refs=refs)
        forwarded = [0]
        # A submitted run has no listener: it keeps the tail of its output for the envelope.
        tails = {'stdout': Tail(), 'stderr': Tail()}
        pieces = []

        def forward(report):
            # The runner's reports without acknowledgements (`poll(run_id)`) carry what the last
            # one did not, in order; an envelope too long for one report comes in pieces.
            part = report.get('envelope_part')
            if isinstance(part, dict):
                pieces.append(part.get('text') or '')
            for stream in ('stdout', 'stderr'):
                text = report.get(stream) or ''
                while text:
                    room = forward_max - forwarded[0] if topic is not None else 0
                    if room <= 0:
                        # Not streamed (no listener, or over the live cap): its tail is kept.
                        tails[stream].add(text)
                        break
                    chunk = text[:min(event_chunk, room)]
                    text = text[len(chunk):]
                    forwarded[0] += len(chunk)
                    if forwarded[0] >= forward_max:
                        chunk += '\n[live output stops here: over %d characters; its tail ' \
                                 'comes at the end]\n' % forward_max
                    worker.log_event(topic, {'run_id': run_id, 'stream': stream, 'text': chunk})

        try:
            encoded = base64.b64encode(dumps(payload).encode('utf-8')).decode('ascii')
            report = loads(runner.start(encoded, worker_budget))
            forward(report)
            started = time.monotonic()
            delay = 0.0005
            next_check = started + 0.05
            cancel = None
            while report.get('state') != 'done':
                if not report.get('more'):
                    time.sleep(delay)
                    delay = min(0.05, delay * 1.5)
                now = time.monotonic()
                if cancel_name is not None and now >= next_check:
                    # An RPC to the scheduler: asked at most every 100 ms, never for short runs.
                    next_check = now + 0.1
                    if cancel is None:
                        cancel = Event(cancel_name, client=get_client())
                    if cancel.is_set() and report.get('state') == 'running':
                        report = loads(runner.cancel(run_id, None, None, None, worker_budget))
                        forward(report)
                        continue
                report = loads(runner.poll(run_id, None, None, None, worker_budget))
                if report.get('state') == 'unknown':
                    raise RuntimeError('the runner on %s lost run %s' % (worker.address, run_id))
                forward(report)
        finally:
            for path in files:
                try:
                    os.remove(path)
                except OSError:
                    pass
        envelope = report.get('envelope')
        if envelope is None and pieces:
            envelope = loads(''.join(pieces))
        envelope = envelope or {}
        # The runner's envelope carries no output (it was reported); a submitted run's tail goes in.
        for stream in ('stdout', 'stderr'):
            envelope.pop(stream, None)
            if topic is None:
                envelope[stream] = tails[stream].text()
        blob = None
        ref = envelope.get('ref') if envelope.get('status') == 'ok' else None
        if isinstance(ref, dict):
            try:
                blob = take_pickle(runner, ref)
            except Exception as exc:
                envelope = {'status': 'error', 'stdout': envelope.get('stdout', ''),
                            'stderr': envelope.get('stderr', ''),
                            'durationMs': envelope.get('durationMs', 0),
                            'error': {'type': 'ChoppaArtifactError', 'frames': [], 'origin': 'backend',
                                      'message': 'the result could not be kept on the cluster: %s' % exc}}
        return envelope, blob, tails

    def run_task(payload, inputs, plugin_name, cancel_name, topic, queued_since):
        """A run (remote or artifact): the envelope goes to the driver as the last event on
        `topic`, so the driver never gathers data; the task's result is the pickle of a ref
        (kept on the cluster) or None."""
        worker = get_worker()
        envelope, blob, tails = execute(payload, inputs, plugin_name, cancel_name, topic, queued_since)
        # Output past the live cap: its last megabyte per stream, after the streamed part.
        for stream in ('stdout', 'stderr'):
            text = tails[stream].text() if tails is not None and tails[stream].kept else ''
            for at in range(0, len(text), event_chunk):
                worker.log_event(topic, {'run_id': payload['run_id'], 'stream': stream, 'text': text[at:at + event_chunk]})
        # The output was streamed before it, in order; the envelope carries none.
        worker.log_event(topic, {'run_id': payload['run_id'], 'done': envelope, 'worker': worker.address})
        return blob

    def submitted_task(payload, inputs, plugin_name, cancel_name, queued_since):
        """A submitted run: no one listens live, so the envelope is part of the result."""
        envelope, blob, _ = execute(payload, inputs, plugin_name, cancel_name, None, queued_since)
        return {'envelope': envelope, 'pickle': blob}

    def take_task(run_id, plugin_name):
        """The pickle of a value the runner of this worker holds from run `run_id` (for a later
        run on another worker), through the runner's own {run_id} resolution."""
        dumps, loads = worker_json()
        runner = worker_runner(plugin_name)
        take_id = 'take-%s' % uuid.uuid4().hex
        payload = {
            'run_id': take_id, 'mode': 'artifact', 'function_name': '_choppa_take',
            'source': 'def _choppa_take(value):\n    return value\n', 'args_source': 'value',
            'args_refs': {'value': {'run_id': run_id}}, 'result_size_max': None,
            'artifact_dir': staging_dir + '/take',
        }
        report = loads(runner.run(base64.b64encode(dumps(payload).encode('utf-8')).decode('ascii')))
        envelope = report.get('envelope') or {}
        if envelope.get('status') != 'ok':
            error = envelope.get('error') or {}
            raise RuntimeError(error.get('message') or 'the value of run %s could not be read' % run_id)
        return take_pickle(runner, envelope['ref'])

    def pick(result, field):
        return result[field]

    def byte_slice(blob, start, size):
        return blob[start:start + size]

    class Tail(object):
        """The last `output_keep` characters of a stream, with a count of what was left out."""

        def __init__(self):
            self.parts = collections.deque()
            self.kept = 0
            self.omitted = 0

        def add(self, text):
            if not text:
                return
            self.parts.append(text)
            self.kept += len(text)
            while self.kept - len(self.parts[0]) >= output_keep:
                self.omitted += len(self.parts[0])
                self.kept -= len(self.parts.popleft())

        def text(self):
            text = ''.join(self.parts)
            omitted = self.omitted
            if len(text) > output_keep:
                omitted += len(text) - output_keep
                text = text[-output_keep:]
            return '[... %d characters omitted ...]\n%s' % (omitted, text) if omitted else text

    class Stream(object):
        """A run's output as the runner's reports address it: positions (characters) from the
        start of the stream; what the backend acknowledged is dropped, the rest is sent again
        from the acknowledged position, so a lost answer loses nothing."""

        def __init__(self):
            self.base = 0
            self.end = 0
            self.chunks = collections.deque()

        def add(self, text):
            self.chunks.append(text)
            self.end += len(text)

        def ack(self, position):
            if not isinstance(position, int) or isinstance(position, bool):
                return self.base
            position = max(self.base, min(position, self.end))
            while self.chunks and self.base + len(self.chunks[0]) <= position:
                self.base += len(self.chunks.popleft())
            if self.chunks and position > self.base:
                self.chunks[0] = self.chunks[0][position - self.base:]
                self.base = position
            return self.base

        def take(self, room):
            parts = []
            size = 0
            for chunk in self.chunks:
                if size >= room:
                    break
                piece = chunk[:room - size]
                parts.append(piece)
                size += len(piece)
            return ''.join(parts)

    class Run(object):
        def __init__(self, run_id):
            self.id = run_id
            self.lock = threading.Lock()
            self.changed = threading.Event()
            self.streams = {'stdout': Stream(), 'stderr': Stream()}
            self.envelope = None
            self.worker = None
            self.future = None
            self.cancel_name = None
            self.cancelled = False
            self.failure = None
            self.future_done_at = None
            self.started = time.monotonic()
            # Argument name -> artifact path, for saying which argument was lost.
            self.paths = {}
            self.function_name = ''

        def add(self, stream, text):
            if stream not in self.streams:
                return
            with self.lock:
                self.streams[stream].add(text)
            self.changed.set()

        def report(self, out, err, budget):
            """The runner's report shape: output after the acknowledged positions (at most about
            `budget` characters), with the positions it spans; `more` when some is left."""
            if not isinstance(budget, int) or isinstance(budget, bool):
                budget = output_keep
            room = max(1000, budget - 1000)
            with self.lock:
                out_stream, err_stream = self.streams['stdout'], self.streams['stderr']
                out_at, err_at = out_stream.ack(out), err_stream.ack(err)
                err_share = room // 2 if err_stream.end > err_at else 0
                stdout = out_stream.take(room - err_share)
                stderr = err_stream.take(room - len(stdout))
                drained = out_at + len(stdout) == out_stream.end and err_at + len(stderr) == err_stream.end
            report = {
                'run_id': self.id, 'state': 'running', 'stdout': stdout, 'stderr': stderr,
                'out_at': out_at, 'out': out_at + len(stdout), 'err_at': err_at, 'err': err_at + len(stderr),
                'more': not drained}
            return report, drained

    class Driver(object):
        def __init__(self, address, runner_source, connect_timeout):
            self.address = address
            self.client = Client(address, timeout=connect_timeout, set_as_default=False)
            # The connection this driver registered its plugins and topic over: a client that
            # reconnected (it cancels its futures then) may be on a restarted scheduler that has
            # neither.
            self.comm = self.client.scheduler_comm
            digest = hashlib.sha256(runner_source.encode('utf-8')).hexdigest()[:16]
            self.plugin_name = 'choppa-runner-%s' % digest
            self.client.register_worker_plugin(RunnerPlugin(runner_source, digest), name=self.plugin_name)
            self.topic = 'choppa-output-%s' % uuid.uuid4().hex
            self.runs = collections.OrderedDict()
            # Which worker's runner holds the value of a remote run, for {run_id} arguments.
            self.holders = collections.OrderedDict()
            self.fetches = {}
            # Bundles this driver registered (plugin names), oldest first.
            self.bundles = collections.OrderedDict()
            # Datasets of submitted runs being followed, so their futures keep their state.
            self.followed = collections.OrderedDict()
            self.lock = threading.Lock()
            self.client.subscribe_topic(self.topic, self._on_event)

        def info(self):
            workers = self.client.scheduler_info().get('workers', {})
            return json.dumps({
                'scheduler': self.address, 'workers': len(workers),
                'distributed': distributed.__version__,
                'python': '%d.%d.%d' % tuple(__import__('sys').version_info[:3]),
            })

        def connected(self):
            # Local state only: no call to the scheduler, which may hang.
            return (self.client.status == 'running' and self.client.scheduler_comm is not None
                    and self.client.scheduler_comm is self.comm)

        def _on_event(self, event):
            message = event[1] if isinstance(event, (tuple, list)) and len(event) == 2 else None
            if not isinstance(message, dict):
                return
            run = self.runs.get(message.get('run_id'))
            if run is None:
                return
            if 'done' in message:
                run.worker = message.get('worker')
                run.envelope = message['done']
                run.changed.set()
            elif isinstance(message.get('text'), str):
                run.add(message.get('stream'), message['text'])

        def _on_future_done(self, run):
            def callback(future):
                run.future_done_at = time.monotonic()
                run.changed.set()
            return callback

        def _inputs(self, payload):
            """Futures for the payload's refs: a dataset's pickle for {path}, a take from the
            holding worker for {run_id}; the worker to pin the run to (the first holder)."""
            inputs = {}
            refs = dict(payload.get('args_refs') or {})
            pin = None
            workers = self.client.scheduler_info().get('workers', {})
            for name, ref in list(refs.items()):
                if not isinstance(ref, dict):
                    continue
                if isinstance(ref.get('path'), str):
                    try:
                        dataset = self.client.get_dataset(artifact_prefix + ref['path'])
                    except KeyError:
                        raise LookupError(
                            'argument `%s`: the artifact %s is not on the Dask cluster (it lives '
                            'as long as the scheduler); run the function that made it again'
                            % (name, ref['path']))
                    inputs[name] = dataset['pickle']
                    del refs[name]
                elif isinstance(ref.get('run_id'), str):
                    holder = self.holders.get(ref['run_id'])
                    if holder is None or holder not in workers:
                        continue
                    if pin is None or pin == holder:
                        pin = holder
                        continue
                    inputs[name] = self.client.submit(
                        take_task, ref['run_id'], self.plugin_name, workers=[holder],
                        allow_other_workers=False, pure=False, key='choppa-take-%s' % uuid.uuid4().hex)
                    del refs[name]
            return inputs, refs, pin

        def ship_code(self, path, digest, data_b64):
            """Puts a bundle where the runner of every worker maps `path` (`BundlePlugin`,
            replayed on workers that join later), once per path and hash for this driver. Not
            `client.upload_file`: that imports every module of the zip on upload and stacks one
            plugin per call."""
            name = 'choppa-bundle-%s' % hashlib.sha256(('%s\0%s' % (path, digest)).encode('utf-8')).hexdigest()[:32]
            if name in self.bundles:
                self.bundles.move_to_end(name)
                return {'uploaded': False}
            if not self.connected():
                return {'failure': 'the Dask scheduler at %s is not connected (client %s)' % (self.address, self.client.status)}
            data = base64.b64decode(data_b64)
            self.client.register_worker_plugin(BundlePlugin(path, data, self.plugin_name), name=name)
            self.bundles[name] = True
            # The scheduler keeps each plugin's bytes to replay them: only recent bundles stay.
            while len(self.bundles) > kept_bundles:
                old, _ = self.bundles.popitem(last=False)
                try:
                    self.client.unregister_worker_plugin(old)
                except Exception:
                    pass
            return {'uploaded': True}

        def missing(self, names_b64):
            """Which of the named modules a worker's runner cannot import (its JSON as `text`)."""
            future = self.client.submit(missing_task, names_b64, self.plugin_name, pure=False)
            try:
                return {'text': future.result(timeout=30)}
            finally:
                future.release()

        def start(self, payload, budget=None):
            run_id = payload['run_id']
            if run_id in self.runs:
                return self.poll(run_id, 0, 0, 0, budget)
            run = Run(run_id)
            self.runs[run_id] = run
            self._trim()
            if not self.connected():
                run.failure = 'the Dask scheduler at %s is not connected (client %s)' % (self.address, self.client.status)
                return self.poll(run_id, 0, 0, 0, budget)
            run.function_name = payload.get('function_name') or ''
            run.paths = dict((name, ref['path']) for name, ref in (payload.get('args_refs') or {}).items()
                             if isinstance(ref, dict) and isinstance(ref.get('path'), str))
            try:
                inputs, refs, pin = self._inputs(payload)
            except LookupError as exc:
                run.envelope = {'status': 'error', 'error': {
                    'type': 'ChoppaArtifactError', 'message': str(exc), 'frames': [], 'origin': 'remote'}}
                return self.poll(run_id, 0, 0, 0, budget)
            payload['args_refs'] = refs
            run.cancel_name = 'choppa-cancel-%s' % run_id
            options = {'workers': [pin], 'allow_other_workers': False} if pin else {}
            run.future = self.client.submit(
                run_task, payload, inputs, self.plugin_name, run.cancel_name, self.topic, time.time(),
                key='choppa-run-%s' % run_id, pure=False, retries=0, **options)
            run.future.add_done_callback(self._on_future_done(run))
            return self.poll(run_id, 0, 0, 0, budget)

        def poll(self, run_id, out=None, err=None, envelope=None, budget=None, wait_ms=0):
            """The runner's report shape (`out`/`err` acknowledge positions, output from there),
            waiting up to `wait_ms` for news. `done` comes with the envelope once all output
            went out; the envelope is always whole (the pipe has no cap), so `envelope` is unused."""
            run = self.runs.get(run_id)
            if run is None:
                return json.dumps({'run_id': run_id, 'state': 'unknown'})
            if wait_ms and not run.changed.is_set() and run.envelope is None:
                run.changed.wait(wait_ms / 1000.0)
            run.changed.clear()
            self._settle(run)
            # The envelope event comes after the run's output events, so output that arrived
            # before it was seen is all there is.
            ended = run.envelope is not None or run.failure is not None
            report, drained = run.report(out, err, budget)
            if run.cancelled and not ended:
                report['state'] = 'cancelling'
            if ended and drained:
                report['state'] = 'done'
                report['envelope'] = self._final(run)
                self._finish(run)
            elif ended:
                report['state'] = 'cancelling' if run.cancelled else 'running'
            return json.dumps(report)

        def _settle(self, run):
            """Turns a task that ended without its envelope event into a failure (after a short
            grace for the event, which travels apart from the task's result)."""
            if run.envelope is not None or run.failure is not None:
                return
            future = run.future
            if not self.connected():
                run.failure = ('lost the connection to the Dask scheduler at %s while the run was '
                               'going; its state on the cluster is unknown. Check the scheduler, '
                               'then run again' % self.address)
                return
            if future is None or run.future_done_at is None:
                return
            if future.status == 'finished' and time.monotonic() - run.future_done_at < 2.0:
                return
            if future.status == 'error':
                try:
                    exc = future.exception(timeout=1)
                except Exception as problem:
                    exc = problem
                run.failure = self._lost_message(run, exc) or \
                    'the Dask task of this run failed: %s: %s' % (type(exc).__name__, exc)
            elif future.status == 'cancelled':
                run.failure = ('the Dask scheduler at %s dropped the run (it restarted or the '
                               'connection was lost); run again' % self.address)
            else:
                run.failure = 'the Dask task finished without reporting a result'

        def _lost_message(self, run, exc):
            """What to say when this run, or the run that made one of its arguments, was refused a
            second start after its worker died; None for other failures."""
            lost = lost_run(exc)
            if lost is None:
                return None
            run_id, function_name = lost
            if run_id == run.id:
                return ('the Dask worker running %s was lost mid-run (it died or was killed) and Dask '
                        'started the run again; it was stopped before running a second time, so '
                        'it may have partly run: check what it does, then run it again'
                        % (function_name or run.function_name))
            for name, path in run.paths.items():
                if path.endswith('-%s.pkl' % run_id):
                    return 'argument `%s`: %s' % (name, lost_artifact(path))
            return ('an argument made by %s (run %s) was lost with the Dask worker that held it; '
                    'run %s again' % (function_name, run_id, function_name))

        def _forget_start(self, run_id):
            """Drops a run's start claim once nothing can make Dask run it again (its future
            released, no published ref); asynchronously, so a run's end waits for nothing."""
            name = started_prefix + run_id

            async def forget():
                try:
                    await self.client.scheduler.publish_delete(name=name)
                except Exception:
                    pass

            try:
                self.client.loop.add_callback(forget)
            except Exception:
                pass

        def _final(self, run):
            if run.failure is not None:
                envelope = {'status': 'error', 'error': {
                    'type': 'BackendError', 'message': run.failure, 'frames': [], 'origin': 'backend'}}
            else:
                envelope = dict(run.envelope)
            envelope.setdefault('durationMs', int((time.monotonic() - run.started) * 1000))
            envelope.pop('stdout', None)
            envelope.pop('stderr', None)
            return envelope

        def _finish(self, run):
            envelope = run.envelope or {}
            ref = envelope.get('ref') if envelope.get('status') == 'ok' else None
            if isinstance(ref, dict) and run.future is not None:
                # The ref stays on the cluster: its pickle's future under a name the path gives.
                self.client.publish_dataset(
                    **{artifact_prefix + ref['path']: {'ref': ref, 'pickle': run.future}}, override=True)
            elif envelope.get('status') == 'ok' and run.worker:
                self.holders[run.id] = run.worker
                while len(self.holders) > kept_holders:
                    self.holders.popitem(last=False)
            if run.cancelled and run.cancel_name:
                try:
                    Event(run.cancel_name, client=self.client).clear()
                except Exception:
                    pass
            self.runs.pop(run.id, None)
            kept = isinstance(ref, dict) and run.future is not None
            if run.future is not None:
                run.future.release()
                run.future = None
                if not kept:
                    # A published ref keeps its claim: Dask would make it again otherwise.
                    self._forget_start(run.id)

        def _trim(self):
            while len(self.runs) > kept_runs * 4:
                self.runs.popitem(last=False)

        def cancel(self, run_id, out=None, err=None, envelope=None, budget=None):
            run = self.runs.get(run_id)
            if run is None:
                return json.dumps({'run_id': run_id, 'state': 'unknown'})
            if not run.cancelled and run.cancel_name and self.connected():
                run.cancelled = True
                Event(run.cancel_name, client=self.client).set()
            return self.poll(run_id, out, err, envelope, budget)

        def artifact(self, path):
            """The ref of a published artifact as JSON, or {"missing": ...}."""
            try:
                dataset = self.client.get_dataset(artifact_prefix + path)
            except KeyError:
                return json.dumps({'missing': 'no artifact %s on the Dask cluster at %s' % (path, self.address)})
            return json.dumps({'ref': dataset['ref']})

        def fetch(self, path, destination):
            """Starts gathering an artifact's pickle into `destination` in 8 MB slices (bounded
            memory); `fetch_poll` reports progress and the end."""
            try:
                dataset = self.client.get_dataset(artifact_prefix + path)
            except KeyError:
                return json.dumps({'state': 'done', 'missing': 'no artifact %s on the Dask cluster at %s' % (path, self.address)})
            ident = uuid.uuid4().hex
            job = {'state': 'running', 'written': 0, 'total': dataset['ref']['size']}
            self.fetches[ident] = job

            def work():
                future = dataset['pickle']
                digest = hashlib.sha256()
                # Named as the server's own partial files (backends/partial-files.ts): the pid says
                # whether a writer is still alive, so a later download removes only what a killed
                # driver left.
                partial = '%s.part-%d-%d' % (destination, os.getpid(), int(time.time() * 1000))
                try:
                    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, 'wb') as handle:
                        start = 0
                        while True:
                            piece = self.client.submit(byte_slice, future, start, fetch_chunk, pure=False).result()
                            if not piece:
                                break
                            handle.write(piece)
                            digest.update(piece)
                            start += len(piece)
                            job['written'] = start
                            if job.get('abort'):
                                raise RuntimeError('cancelled')
                    os.replace(partial, destination)
                    job.update(state='done', size=start, sha256=digest.hexdigest())
                except BaseException as exc:
                    try:
                        os.remove(partial)
                    except OSError:
                        pass
                    if lost_run(exc) is not None:
                        job.update(state='done', missing=lost_artifact(path))
                    else:
                        job.update(state='done', error='%s: %s' % (type(exc).__name__, exc))

            threading.Thread(target=work, daemon=True).start()
            return json.dumps({'id': ident})

        def fetch_poll(self, ident, wait_ms=0, abort=False):
            job = self.fetches.get(ident)
            if job is None:
                return json.dumps({'state': 'done', 'error': 'unknown fetch'})
            if abort:
                job['abort'] = True
            deadline = time.monotonic() + wait_ms / 1000.0
            while job['state'] != 'done' and time.monotonic() < deadline:
                time.sleep(0.01)
            if job['state'] == 'done':
                self.fetches.pop(ident, None)
            return json.dumps(job)

        def submit(self, payload, token):
            """Fire and forget: the run's futures under a published dataset (the handle a later
            driver finds again), claimed by the idempotency token first."""
            payload['mode'] = 'artifact'
            run_id = payload['run_id']
            claim = token_prefix + hashlib.sha256(token.encode('utf-8')).hexdigest()
            handle = {'run_id': run_id, 'dataset': submit_prefix + run_id, 'scheduler': self.address}
            try:
                self.client.publish_dataset(**{claim: handle})
            except KeyError:
                return json.dumps({'handle': self.client.get_dataset(claim)})
            try:
                inputs, refs, pin = self._inputs(payload)
            except LookupError as exc:
                self.client.unpublish_dataset(claim)
                return json.dumps({'failure': str(exc)})
            payload['args_refs'] = refs
            options = {'workers': [pin], 'allow_other_workers': False} if pin else {}
            whole = self.client.submit(
                submitted_task, payload, inputs, self.plugin_name, 'choppa-cancel-%s' % run_id, time.time(),
                key='choppa-submit-%s' % run_id, pure=False, retries=0, **options)
            envelope = self.client.submit(pick, whole, 'envelope', key='choppa-submit-envelope-%s' % run_id)
            blob = self.client.submit(pick, whole, 'pickle', key='choppa-submit-pickle-%s' % run_id)
            fire_and_forget([whole, envelope, blob])
            self.client.publish_dataset(**{handle['dataset']: {
                'whole': whole, 'envelope': envelope, 'pickle': blob, 'function': payload['function_name']}})
            return json.dumps({'handle': handle})

        def submitted(self, dataset_name):
            """State of a submitted run; its envelope once it ended (the ref then published)."""
            dataset = self.followed.get(dataset_name)
            if dataset is None:
                try:
                    dataset = self.client.get_dataset(dataset_name)
                except KeyError:
                    return json.dumps({'state': 'failed', 'message': 'the Dask scheduler at %s no longer knows this run (it was restarted)' % self.address})
                # A future fresh from a dataset reads `pending` until the scheduler's report on
                # its key arrives: give it a moment, and keep it so later polls see its state.
                settle = time.monotonic() + 0.5
                while dataset['whole'].status == 'pending' and time.monotonic() < settle:
                    time.sleep(0.01)
                self.followed[dataset_name] = dataset
                while len(self.followed) > kept_holders:
                    self.followed.popitem(last=False)
            whole = dataset['whole']
            if whole.status == 'pending':
                return json.dumps({'state': 'running'})
            if whole.status != 'finished':
                exc = None
                try:
                    exc = whole.exception(timeout=5)
                    message = '%s: %s' % (type(exc).__name__, exc)
                except Exception as problem:
                    message = '%s (%s)' % (whole.status, problem)
                lost = lost_run(exc)
                if lost is not None and submit_prefix + lost[0] == dataset_name:
                    return json.dumps({'state': 'failed', 'message': (
                        'the Dask worker running %s was lost mid-run (it died or was killed) and '
                        'Dask started the run again; it was stopped before running a second time, '
                        'so it may have partly run: check what it does, then submit it again' % lost[1])})
                if lost is not None:
                    return json.dumps({'state': 'failed', 'message': (
                        'an argument made by %s (run %s) was lost with the Dask worker that held it; '
                        'run %s again' % (lost[1], lost[0], lost[1]))})
                return json.dumps({'state': 'failed', 'message': 'the Dask task failed: %s' % message})
            envelope = dataset['envelope'].result(timeout=30)
            self.followed.pop(dataset_name, None)
            ref = envelope.get('ref') if envelope.get('status') == 'ok' else None
            if isinstance(ref, dict):
                self.client.publish_dataset(
                    **{artifact_prefix + ref['path']: {'ref': ref, 'pickle': dataset['pickle']}}, override=True)
            return json.dumps({'state': 'ended', 'envelope': envelope})

        def cancel_submitted(self, run_id):
            Event('choppa-cancel-%s' % run_id, client=self.client).set()
            return {'cancelled': True}

        def count_submitted(self):
            return str(sum(1 for name in self.client.list_datasets() if str(name).startswith(submit_prefix)))

        def close(self):
            try:
                self.client.close(timeout=2)
            except Exception:
                pass

    methods = (
        'info', 'connected', 'start', 'poll', 'cancel', 'ship_code', 'missing', 'artifact', 'fetch', 'fetch_poll', 'submit',
        'submitted', 'cancel_submitted', 'count_submitted', 'close',
    )
    state = {}

    def call(message_b64):
        """The one entry point: base64 JSON `{method, args}` (arguments never spliced into
        source); `connect` makes the driver, the rest are its methods."""
        message = json.loads(base64.b64decode(message_b64).decode('utf-8'))
        method, args = message['method'], message.get('args') or []
        if method == 'connect':
            address, runner_source, connect_timeout = args
            old = state.pop('driver', None)
            if old is not None:
                old.close()
            state['driver'] = Driver(address, runner_source, connect_timeout)
            return state['driver'].info()
        if method not in methods:
            raise ValueError('unknown driver method %r' % (method,))
        driver = state.get('driver')
        if driver is None:
            raise RuntimeError('the Dask driver is not connected')
        result = getattr(driver, method)(*args)
        return result if isinstance(result, str) else json.dumps(result)

    namespace['_choppa_dask_call'] = call


_choppa_dask_install(globals())
del _choppa_dask_install
