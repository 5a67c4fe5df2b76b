// One level of `/Volumes/...` and `/Workspace/...` folders, for completing an `artifact_dir`:
// Unity Catalog lists the catalogs, schemas and volumes above a volume, the Files API
// `directories` listing what is inside one, and `workspace/list` the workspace tree.
import type { DatabricksHttpClient } from '../backends/databricks/http-client.js';

/** Folders listed per level at most (a level with more shows the first ones). */
export const MAX_FOLDERS = 500;

export type FolderListing = { ok: true; folders: string[] } | { ok: false; failure: string };

function names(items: unknown, key: string): string[] {
  if (!Array.isArray(items)) return [];
  return items.map((item) => (item as Record<string, unknown>)?.[key]).filter((name): name is string => typeof name === 'string');
}

/** The folders directly under `parent` (`/Volumes/main/`, `/Workspace/Users/`), by name. */
export async function listFolders(client: DatabricksHttpClient, parent: string): Promise<FolderListing> {
  const parts = parent.split('/').filter(Boolean);
  const [root, ...rest] = parts;
  if (root === 'Workspace') {
    const answer = await client.request<{ objects?: Array<{ path?: string; object_type?: string }> }>('GET', '/api/2.0/workspace/list', { query: { path: `/${parts.join('/')}` } });
    if (!answer.ok) return { ok: false, failure: answer.error.message };
    const folders = (answer.value.objects ?? [])
      .filter((object) => object.object_type === 'DIRECTORY' || object.object_type === 'REPO')
      .map((object) => (object.path ?? '').split('/').pop() ?? '')
      .filter(Boolean);
    return { ok: true, folders: folders.slice(0, MAX_FOLDERS) };
  }
  if (root !== 'Volumes') return { ok: false, failure: 'only /Volumes and /Workspace paths are listed' };
  const unity = async (path: string, key: string, query: Record<string, string>): Promise<FolderListing> => {
    const answer = await client.request<Record<string, unknown>>('GET', `/api/2.1/unity-catalog/${path}`, { query: { ...query, max_results: MAX_FOLDERS } });
    return answer.ok ? { ok: true, folders: names(answer.value[key], 'name').slice(0, MAX_FOLDERS) } : { ok: false, failure: answer.error.message };
  };
  if (rest.length === 0) return unity('catalogs', 'catalogs', {});
  if (rest.length === 1) return unity('schemas', 'schemas', { catalog_name: rest[0]! });
  if (rest.length === 2) return unity('volumes', 'volumes', { catalog_name: rest[0]!, schema_name: rest[1]! });
  const encoded = parts.map(encodeURIComponent).join('/');
  const answer = await client.request<{ contents?: Array<{ name?: string; is_directory?: boolean }> }>('GET', `/api/2.0/fs/directories/${encoded}/`, { query: { page_size: MAX_FOLDERS } });
  if (!answer.ok) return { ok: false, failure: answer.error.message };
  return { ok: true, folders: (answer.value.contents ?? []).filter((entry) => entry.is_directory === true).map((entry) => entry.name ?? '').filter(Boolean) };
}
