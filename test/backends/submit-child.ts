// Run in a child process by the local backend tests: submits one job with a fresh LocalBackend,
// prints the handle as JSON and exits at once without disposing anything, as a killed server would.
import { LocalBackend, RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';

const [pythonPath, fsRoot, request] = process.argv.slice(2);
if (!pythonPath || !fsRoot || !request) throw new Error('usage: submit-child <python> <fsRoot> <request JSON>');

const backend = new LocalBackend({ pythonPath, fsRoot, runnerPath: RUNNER_PATH });
const handle = await backend.submit(JSON.parse(request));
process.stdout.write(JSON.stringify(handle) + '\n');
process.exit(0);
