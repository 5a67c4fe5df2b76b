// A separate process writing results into a shared state folder, as a CLI run beside the server
// does: `node store-writer-child.mjs DIR WRITER COUNT [STDOUT_BYTES]` (the built store from server/dist).
import { ResultStore } from '../../server/dist/engine/result-store.js';

const [dir, writer, count] = process.argv.slice(2);
const store = new ResultStore(dir, (message) => process.stderr.write(`${message}\n`));
for (let i = 0; i < Number(count); i += 1) {
  store.set(`w${writer}.py::f`, {
    runId: `w${writer}-${i}`, function: 'f', mode: 'remote', status: 'ok', args: String(i), call: String(i),
    stdout: 'x'.repeat(Number(process.argv[5] ?? 0)), stderr: '', durationMs: 1, backend: 'test', finishedAt: new Date().toISOString(),
    value: { repr: String(i), type: 'int', size: 5, json: i },
  });
}
