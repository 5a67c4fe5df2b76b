// The workspace emulator as its own process (`npm run emulator`), for benches that must not share
// their event loop with it: the environment that points a server or CLI at it, and a stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EMULATOR_CLUSTER_ID = '0123-456789-emulator';

export interface EmulatorProcess {
  host: string;
  token: string;
  env: NodeJS.ProcessEnv;
  stop: () => Promise<void>;
}

/** Starts the emulator in one runtime profile and reads its URL and token from its banner. */
export async function startEmulatorProcess(runtime: '16.4' | '17'): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(join(ROOT, 'node_modules', '.bin', 'vite-node'), ['test/emulator/cli.ts', '--', '--runtime', runtime], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let host = '';
  let token = '';
  for await (const line of lines) {
    const match = /^\s*(DATABRICKS_HOST|DATABRICKS_TOKEN)=(\S+)/.exec(line);
    if (match?.[1] === 'DATABRICKS_HOST') host = match[2]!;
    if (match?.[1] === 'DATABRICKS_TOKEN') token = match[2]!;
    if (host && token) break;
  }
  if (!host || !token) throw new Error('the emulator did not print its URL and token');
  return {
    host,
    token,
    env: { DATABRICKS_HOST: host, DATABRICKS_TOKEN: token, DATABRICKS_CLUSTER_ID: EMULATOR_CLUSTER_ID },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
