// Runs the workspace emulator by hand: `npm run emulator -- --port 8123 --token dapi123 [--runtime 17]`.
// Prints the URL and token to use as DATABRICKS_HOST / DATABRICKS_TOKEN and stops cleanly on Ctrl-C;
// `--help` lists the options, and a mistaken one is refused in a line with the usage (exit 2).
import { parseArgs } from 'node:util';
import { DEFAULT_CLUSTER_ID, startEmulator } from './emulator.js';

const USAGE = `Usage: npm run emulator -- [options]

  --port N               the port to listen on (default 0: any free port)
  --token TOKEN          the token clients send as DATABRICKS_TOKEN (default: a random one, printed)
  --fs-root DIR          where /Workspace, /Volumes and dbfs:/ files live (default: a new temp folder)
  --python PATH          the Python that runs commands on the cluster (default python3)
  --cluster-state STATE  RUNNING or TERMINATED: the state cluster ${DEFAULT_CLUSTER_ID} starts in (default RUNNING)
  --runtime VERSION      16.4 or 17: the Databricks Runtime whose output cap commands meet (default 16.4)
  -h, --help             this text
`;

/** A usage mistake: one line saying what, the usage, exit 2 (as the CLI does). */
function refuse(message: string): never {
  process.stderr.write(`emulator: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      'fs-root': { type: 'string' },
      python: { type: 'string' },
      'cluster-state': { type: 'string', default: 'RUNNING' },
      runtime: { type: 'string', default: '16.4' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  // Node's message goes on with advice about `--` that does not apply here: its first sentence says it.
  refuse((error as Error).message.split(/\.\s/)[0]!.replace(/\.$/, ''));
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) refuse(`--port ${values.port} is not a port number`);
if (values['cluster-state'] !== 'RUNNING' && values['cluster-state'] !== 'TERMINATED') refuse(`--cluster-state is RUNNING or TERMINATED, not ${values['cluster-state']}`);
if (values.runtime !== '16.4' && values.runtime !== '17') refuse(`--runtime is 16.4 or 17, not ${values.runtime}`);

const emulator = await startEmulator({
  port,
  ...(values.token ? { token: values.token } : {}),
  ...(values['fs-root'] ? { fsRoot: values['fs-root'] } : {}),
  ...(values.python ? { pythonPath: values.python } : {}),
  clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, cluster_name: 'emulator', state: values['cluster-state'] }],
  clusterStartDelayMs: 2000,
  runtime: values.runtime,
});

// Signals are handled before the address is printed: without a listener SIGINT kills node at once,
// so a Ctrl-C right after the print would leave the workspace's Python processes and files behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.stop().then(() => process.exit(0));
  });
}

process.stdout.write(
  `Databricks emulator listening\n  DATABRICKS_HOST=${emulator.url}\n  DATABRICKS_TOKEN=${emulator.token}\n  cluster id: ${DEFAULT_CLUSTER_ID}\n  files under: ${emulator.fsRoot}\n`,
);
