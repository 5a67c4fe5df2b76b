// The emulated Clusters API (2.0 and 2.1 paths): cluster records with the real field names and
// the TERMINATED → PENDING → RUNNING state machine behind `clusters/start`.
import { apiError, json, requireString, type Reply } from './http-util.js';

export type ClusterState = 'PENDING' | 'RUNNING' | 'RESTARTING' | 'RESIZING' | 'TERMINATING' | 'TERMINATED' | 'ERROR' | 'UNKNOWN';

/** How a test seeds a cluster. */
export interface ClusterSeed {
  cluster_id: string;
  cluster_name?: string;
  state?: ClusterState;
  /** Default: the emulator's runtime profile's. */
  spark_version?: string;
  node_type_id?: string;
  /** A fixed size (default 0: single node); left out when `autoscale` is given. */
  num_workers?: number;
  autoscale?: { min_workers: number; max_workers: number };
  /** 0 means the cluster never terminates by itself. */
  autotermination_minutes?: number;
  /**
   * The user a SINGLE_USER cluster is assigned to (default: the emulator's one user). Another
   * user's cluster is listed but refuses execution contexts, as a real one does.
   */
  single_user_name?: string;
  data_security_mode?: 'SINGLE_USER' | 'USER_ISOLATION' | 'NONE';
}

export interface TerminationReason {
  code: string;
  type: 'SUCCESS' | 'CLIENT_ERROR' | 'SERVICE_FAULT' | 'CLOUD_FAILURE';
  parameters?: Record<string, string>;
}

/** The subset of `ClusterDetails` clients read. */
export interface ClusterDetails {
  cluster_id: string;
  cluster_name: string;
  state: ClusterState;
  state_message: string;
  spark_version: string;
  cluster_source: 'UI';
  creator_user_name: string;
  single_user_name?: string;
  data_security_mode: 'SINGLE_USER' | 'USER_ISOLATION' | 'NONE';
  node_type_id: string;
  driver_node_type_id: string;
  num_workers?: number;
  autoscale?: { min_workers: number; max_workers: number };
  autotermination_minutes: number;
  cluster_memory_mb: number;
  cluster_cores: number;
  spark_context_id?: number;
  start_time: number;
  terminated_time?: number;
  last_restarted_time?: number;
  termination_reason?: TerminationReason;
}

/** The one user of the emulated workspace: the token's owner (SCIM `Me`). */
export const EMULATOR_USER = 'emulator@example.com';
const USER = EMULATOR_USER;

export class Clusters {
  private readonly clusters = new Map<string, ClusterDetails>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    seeds: ClusterSeed[],
    private readonly startDelayMs: number,
    /** Called when a cluster leaves RUNNING, so its execution contexts die with it. */
    private readonly onTerminated: (clusterId: string) => void,
    sparkVersion = '16.4.x-scala2.12',
    /** The most clusters one `clusters/list` page holds, whatever `page_size` asks. */
    private readonly listPageMax = 100,
  ) {
    const now = Date.now();
    for (const seed of seeds) {
      const state = seed.state ?? 'RUNNING';
      this.clusters.set(seed.cluster_id, {
        cluster_id: seed.cluster_id,
        cluster_name: seed.cluster_name ?? seed.cluster_id,
        state,
        state_message: state === 'TERMINATED' ? 'Inactive cluster terminated (inactive for 120 minutes).' : '',
        spark_version: seed.spark_version ?? sparkVersion,
        cluster_source: 'UI',
        creator_user_name: USER,
        data_security_mode: seed.data_security_mode ?? 'SINGLE_USER',
        ...((seed.data_security_mode ?? 'SINGLE_USER') === 'SINGLE_USER' ? { single_user_name: seed.single_user_name ?? USER } : {}),
        node_type_id: seed.node_type_id ?? 'i3.xlarge',
        driver_node_type_id: seed.node_type_id ?? 'i3.xlarge',
        ...(seed.autoscale ? { autoscale: { ...seed.autoscale } } : { num_workers: seed.num_workers ?? 0 }),
        autotermination_minutes: seed.autotermination_minutes ?? 120,
        cluster_memory_mb: 31232,
        cluster_cores: 4,
        start_time: now,
        ...(state === 'RUNNING' ? { spark_context_id: randomContextId(), last_restarted_time: now } : {}),
        ...(state === 'TERMINATED'
          ? { terminated_time: now, termination_reason: { code: 'INACTIVITY', type: 'SUCCESS', parameters: { inactivity_duration_min: '120' } } }
          : {}),
      });
    }
  }

  get(clusterId: string): ClusterDetails | undefined {
    return this.clusters.get(clusterId);
  }

  /**
   * Whether the token's user may attach to the cluster: a SINGLE_USER cluster only to its
   * assigned user (what the Databricks VS Code extension checks before offering a cluster).
   */
  mayAttach(clusterId: string): boolean {
    const cluster = this.clusters.get(clusterId);
    return !cluster || cluster.data_security_mode !== 'SINGLE_USER' || cluster.single_user_name === USER;
  }

  /** `clusters/get`; an unknown id is the 400 the SDKs remap to "does not exist". */
  handleGet(query: URLSearchParams): Reply {
    return json(this.require(requireString(Object.fromEntries(query), 'cluster_id')));
  }

  /**
   * `clusters/list` in pages: `page_size` is a maximum the server may lower further (to
   * `listPageMax`), and each page names the next and previous one (databricks-sdk-py
   * `service/compute.py` `ClustersAPI.list`, which follows `next_page_token` until it is empty).
   */
  handleList(query: URLSearchParams): Reply {
    const states = query.getAll('filter_by.cluster_states');
    const clusters = [...this.clusters.values()].filter((cluster) => states.length === 0 || states.includes(cluster.state));
    const asked = Number(query.get('page_size') ?? this.listPageMax);
    const size = Number.isInteger(asked) && asked > 0 ? Math.min(asked, this.listPageMax) : this.listPageMax;
    const offset = decodePageToken(query.get('page_token'));
    const page = clusters.slice(offset, offset + size);
    const more = offset + size < clusters.length;
    return json({
      // The service leaves `clusters` out entirely when there is nothing to list.
      ...(page.length ? { clusters: page } : {}),
      ...(more ? { next_page_token: encodePageToken(offset + size) } : {}),
      ...(offset > 0 ? { prev_page_token: encodePageToken(Math.max(0, offset - size)) } : {}),
    });
  }

  handleStart(body: Record<string, unknown>): Reply {
    const cluster = this.require(requireString(body, 'cluster_id'));
    if (cluster.state !== 'TERMINATED') {
      // The service names the state in title case (databricks/dbt-databricks#347: `{"error_code":
      // "INVALID_STATE","message":"Cluster <id> is in unexpected state Pending.","details":[{"@type":
      // "type.googleapis.com/google.rpc.ErrorInfo","reason":"CM_API_ERROR_SOURCE_CA…`; the quote is cut
      // there, so the detail's reason is left out rather than guessed).
      const state = cluster.state.charAt(0) + cluster.state.slice(1).toLowerCase();
      throw apiError(400, 'INVALID_STATE', `Cluster ${cluster.cluster_id} is in unexpected state ${state}.`);
    }
    cluster.state = 'PENDING';
    cluster.state_message = 'Finding instances for new nodes, acquiring more instances if necessary';
    delete cluster.termination_reason;
    delete cluster.terminated_time;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (cluster.state !== 'PENDING') return;
      cluster.state = 'RUNNING';
      cluster.state_message = '';
      cluster.spark_context_id = randomContextId();
      cluster.last_restarted_time = Date.now();
    }, this.startDelayMs);
    this.timers.add(timer);
    return json({});
  }

  handleDelete(body: Record<string, unknown>): Reply {
    const cluster = this.require(requireString(body, 'cluster_id'));
    this.terminate(cluster.cluster_id, { code: 'USER_REQUEST', type: 'SUCCESS', parameters: { username: USER } });
    return json({});
  }

  /** Moves a cluster to TERMINATED (killing its contexts), as if the service stopped it. */
  terminate(clusterId: string, reason: TerminationReason): void {
    const cluster = this.clusters.get(clusterId);
    if (!cluster) throw new Error(`no cluster ${clusterId}`);
    cluster.state = 'TERMINATED';
    cluster.state_message = terminationMessage(reason);
    cluster.termination_reason = reason;
    cluster.terminated_time = Date.now();
    delete cluster.spark_context_id;
    this.onTerminated(clusterId);
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private require(clusterId: string): ClusterDetails {
    const cluster = this.clusters.get(clusterId);
    if (!cluster) throw apiError(400, 'INVALID_PARAMETER_VALUE', `Cluster ${clusterId} does not exist`);
    return cluster;
  }
}

function terminationMessage(reason: TerminationReason): string {
  if (reason.code === 'USER_REQUEST') return `Termination requested by ${reason.parameters?.['username'] ?? USER}`;
  if (reason.code === 'INACTIVITY') return 'Inactive cluster terminated (inactive for 120 minutes).';
  return `Cluster terminated. Reason: ${reason.code}`;
}

/** Page tokens are opaque to clients; these carry an offset. */
function encodePageToken(offset: number): string {
  return Buffer.from(`clusters:${offset}`).toString('base64url');
}

function decodePageToken(token: string | null): number {
  if (!token) return 0;
  const match = /^clusters:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!match) throw apiError(400, 'INVALID_PARAMETER_VALUE', `Invalid page token: ${token}`);
  return Number(match[1]);
}

function randomContextId(): number {
  return Math.floor(Math.random() * 1e15);
}
