// A stand-in server process for the python-process tests: starts one warm interpreter, prints its
// pid, then waits to be killed (`node python-child.mjs PYTHON`).
import { PythonProcess } from '../../server/dist/backends/local/python-process.js';

const started = await PythonProcess.start({ pythonPath: process.argv[2], cwd: process.cwd(), env: process.env });
if ('error' in started) {
  process.stdout.write(`error ${started.error.message}\n`);
  process.exit(1);
}
process.stdout.write(`${started.pid}\n`);
setInterval(() => undefined, 1000);
