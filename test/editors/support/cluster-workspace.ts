// The workspace the cluster editor tests share: four clusters on the emulator (gamma terminated,
// alpha and beta running, theirs another user's single-user cluster) and a file whose `Choppa(...)`
// names gamma. Each editor offers "Use cluster alpha" and "Use cluster beta", never "theirs".
import { startEmulator, type Emulator } from '../../emulator/emulator.js';

export const GAMMA = '0103-333333-gamma';
export const BETA = '0102-222222-beta';
export const CHOPPA_LINE = (id: string): string => `dutch = Choppa(cluster_id="${id}")`;
export const SOURCE = ['from choppa import Choppa', '', CHOPPA_LINE(GAMMA), '', '', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n');
/** The cluster actions every editor must offer on the `Choppa(...)` line, in the server's order. */
export const CLUSTER_ACTIONS = ['Start cluster gamma', 'Restart execution context on gamma', 'Open cluster page of gamma', 'Use cluster alpha', 'Use cluster beta'];

export function startClusterWorkspace(): Promise<Emulator> {
  return startEmulator({
    clusters: [
      { cluster_id: GAMMA, cluster_name: 'gamma', state: 'TERMINATED' },
      { cluster_id: '0101-111111-alpha', cluster_name: 'alpha', state: 'RUNNING' },
      { cluster_id: BETA, cluster_name: 'beta', state: 'RUNNING' },
      { cluster_id: '0104-444444-theirs', cluster_name: 'theirs', state: 'RUNNING', single_user_name: 'other@example.com' },
    ],
  });
}
