// The cluster list of one Databricks workspace, cached: at most one `clusters/list` per
// `CLUSTER_LIST_TTL_MS` however many files, completions, hovers and timers ask, with concurrent
// askers joining the request in flight. Also who the token belongs to (SCIM `Me`, asked once).
import type { DatabricksHttpClient } from '../backends/databricks/http-client.js';
import { describeApiFailure } from '../backends/databricks/failure-messages.js';
import type { ClusterInfo, ClusterSnapshot } from './cluster-info.js';

/** 30 s by default; `CHOPPA_CLUSTER_LIST_TTL_MS` shortens it (tests of the refresh timer). */
export const CLUSTER_LIST_TTL_MS = ((): number => {
  const raw = Number(process.env['CHOPPA_CLUSTER_LIST_TTL_MS']);
  return Number.isFinite(raw) && raw >= 100 ? raw : 30_000;
})();

/** Pages of 100 clusters followed at most (a workspace with more lists the first 1,000). */
const MAX_PAGES = 10;

export type CatalogResult = { ok: true; snapshot: ClusterSnapshot } | { ok: false; failure: string };

export class ClusterCatalog {
  private last: ClusterSnapshot | undefined;
  private lastFailure: { failure: string; at: number } | undefined;
  private inFlight: Promise<CatalogResult> | undefined;
  private userName: Promise<string | undefined> | undefined;
  /** Told when a fetch brought a list different from the one before. */
  readonly changeListeners: Array<() => void> = [];
  private signature = '';

  constructor(
    public client: DatabricksHttpClient,
    readonly host: string,
    private readonly ttlMs = CLUSTER_LIST_TTL_MS,
  ) {}

  /** The last list, whatever its age (diagnostics read it synchronously). */
  snapshot(): ClusterSnapshot | undefined {
    return this.last;
  }

  /** Whether the last answer (list or failure) is older than the TTL. */
  get stale(): boolean {
    const at = Math.max(this.last?.fetchedAt ?? 0, this.lastFailure?.at ?? 0);
    return Date.now() - at >= this.ttlMs;
  }

  /** The list, fetched when the cached one is older than the TTL (or `force` after a change we made). */
  list(force = false): Promise<CatalogResult> {
    if (this.inFlight) return this.inFlight;
    if (!force && !this.stale) {
      if (this.last && (!this.lastFailure || this.lastFailure.at <= this.last.fetchedAt)) return Promise.resolve({ ok: true, snapshot: this.last });
      if (this.lastFailure) return Promise.resolve({ ok: false, failure: this.lastFailure.failure });
    }
    const request = this.fetch().finally(() => {
      if (this.inFlight === request) this.inFlight = undefined;
    });
    this.inFlight = request;
    return request;
  }

  private async fetch(): Promise<CatalogResult> {
    this.userName ??= this.client
      .request<{ userName?: string }>('GET', '/api/2.0/preview/scim/v2/Me')
      .then((answer) => (answer.ok && typeof answer.value.userName === 'string' ? answer.value.userName : undefined));
    const clusters: ClusterInfo[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await this.client.request<{ clusters?: ClusterInfo[]; next_page_token?: string }>('GET', '/api/2.1/clusters/list', {
        query: { page_size: 100, ...(pageToken ? { page_token: pageToken } : {}) },
      });
      if (!answer.ok) {
        const failure = describeApiFailure(answer.error, 'listing clusters', this.host, this.client.configFile);
        this.lastFailure = { failure, at: Date.now() };
        return { ok: false, failure };
      }
      for (const cluster of answer.value.clusters ?? []) if (typeof cluster?.cluster_id === 'string') clusters.push(cluster);
      pageToken = answer.value.next_page_token;
      if (!pageToken) break;
    }
    const snapshot: ClusterSnapshot = { clusters, complete: pageToken === undefined, userName: await this.userName, fetchedAt: Date.now() };
    this.last = snapshot;
    const signature = JSON.stringify(clusters.map((c) => [c.cluster_id, c.cluster_name, c.state, c.state_message, c.spark_version, c.single_user_name]));
    if (signature !== this.signature) {
      this.signature = signature;
      for (const listener of this.changeListeners) listener();
    }
    return { ok: true, snapshot };
  }
}

/** One catalog per workspace (host and credential kind), shared by every state folder using it. */
export class ClusterCatalogs {
  private readonly catalogs = new Map<string, ClusterCatalog>();
  /** Told when any workspace's list changed (the server republishes diagnostics). */
  readonly changeListeners: Array<() => void> = [];

  for(host: string, authType: string, client: DatabricksHttpClient): ClusterCatalog {
    const key = `${host}|${authType}`;
    let catalog = this.catalogs.get(key);
    if (!catalog) {
      catalog = new ClusterCatalog(client, host);
      catalog.changeListeners.push(() => {
        for (const listener of this.changeListeners) listener();
      });
      this.catalogs.set(key, catalog);
    }
    // New settings build a new client for the same workspace: use the newest.
    catalog.client = client;
    return catalog;
  }

  all(): ClusterCatalog[] {
    return [...this.catalogs.values()];
  }
}
