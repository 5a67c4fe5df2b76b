// The emulated Unity Catalog listings a `/Volumes/<catalog>/<schema>/<volume>` path is made of
// (catalogs, schemas, volumes), read from the folders under the emulator's `Volumes` root: the
// Files API lists only inside a volume, so clients list the three levels above it here.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { apiError, json, requireString, type Reply } from './http-util.js';

async function folders(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  } catch {
    return [];
  }
}

export class UnityCatalog {
  constructor(private readonly volumesRoot: string) {}

  /** `GET /api/2.1/unity-catalog/catalogs`. */
  async listCatalogs(): Promise<Reply> {
    const names = await folders(this.volumesRoot);
    return json({ catalogs: names.map((name) => ({ name, catalog_type: 'MANAGED_CATALOG', owner: 'emulator@example.com' })) });
  }

  /** `GET /api/2.1/unity-catalog/schemas?catalog_name=`; an unknown catalog is a 404. */
  async listSchemas(query: URLSearchParams): Promise<Reply> {
    const catalog = requireString(Object.fromEntries(query), 'catalog_name');
    if (!(await folders(this.volumesRoot)).includes(catalog)) throw apiError(404, 'CATALOG_DOES_NOT_EXIST', `Catalog '${catalog}' does not exist.`);
    const names = await folders(join(this.volumesRoot, catalog));
    return json({ schemas: names.map((name) => ({ name, catalog_name: catalog, full_name: `${catalog}.${name}` })) });
  }

  /** `GET /api/2.1/unity-catalog/volumes?catalog_name=&schema_name=`; an unknown schema is a 404. */
  async listVolumes(query: URLSearchParams): Promise<Reply> {
    const params = Object.fromEntries(query);
    const catalog = requireString(params, 'catalog_name');
    const schema = requireString(params, 'schema_name');
    if (!(await folders(join(this.volumesRoot, catalog))).includes(schema)) {
      throw apiError(404, 'SCHEMA_DOES_NOT_EXIST', `Schema '${catalog}.${schema}' does not exist.`);
    }
    const names = await folders(join(this.volumesRoot, catalog, schema));
    return json({
      volumes: names.map((name) => ({ name, catalog_name: catalog, schema_name: schema, full_name: `${catalog}.${schema}.${name}`, volume_type: 'MANAGED' })),
    });
  }
}
