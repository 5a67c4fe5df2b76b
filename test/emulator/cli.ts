// Runs the workspace emulator by hand: `npm run emulator -- --port 8123 --token dapi123 [--runtime 17]`.
// Prints the URL and token to use as DATABRICKS_HOST / DATABRICKS_TOKEN and stops cleanly on Ctrl-C.
import { parseArgs } from 'node:util';
import { DEFAULT_CLUSTER_ID, startEmulator } from './emulator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    token: { type: 'string' },
    'fs-root': { type: 'string' },
    python: { type: 'string' },
    'cluster-state': { type: 'string', default: 'RUNNING' },
    runtime: { type: 'string', default: '16.4' },
  },
});

const emulator = await startEmulator({
  port: Number(values.port),
  ...(values.token ? { token: values.token } : {}),
  ...(values['fs-root'] ? { fsRoot: values['fs-root'] } : {}),
  ...(values.python ? { pythonPath: values.python } : {}),
  clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, cluster_name: 'emulator', state: values['cluster-state'] === 'TERMINATED' ? 'TERMINATED' : 'RUNNING' }],
  clusterStartDelayMs: 2000,
  runtime: values.runtime === '17' ? '17' : '16.4',
});

process.stdout.write(
  `Databricks emulator listening\n  DATABRICKS_HOST=${emulator.url}\n  DATABRICKS_TOKEN=${emulator.token}\n  cluster id: ${DEFAULT_CLUSTER_ID}\n  files under: ${emulator.fsRoot}\n`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.stop().then(() => process.exit(0));
  });
}
