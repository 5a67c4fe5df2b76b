// Where a result was made, from the backend label its record keeps (`local python3.11`,
// `cluster 0123-…`, `dask tcp://…`). A result made on one kind of backend is not the data another
// would have made (a cluster reads its own tables, a local run the local stand-ins), so it does
// not travel into a run on another kind; the cache serves only results made where the run goes.

/** Every local Python is one place; a cluster or a Dask scheduler is its own. */
function placeOf(label: string): string {
  return /^local python/.test(label) ? 'local' : label;
}

/** Local, a Databricks workspace's clusters (which read each other's artifact paths), or one Dask scheduler. */
function kindOf(label: string): string {
  const place = placeOf(label);
  return place.startsWith('cluster ') ? 'databricks' : place;
}

/** True when a result made on `madeOn` may be answered from the cache for a run going to `runsOn`. */
export function samePlace(madeOn: string, runsOn: string): boolean {
  return placeOf(madeOn) === placeOf(runsOn);
}

/**
 * True when a result made on `madeOn` may feed a run going to `runsOn`: by path or by value any
 * cluster of a workspace may read another's result, but nothing crosses between local, Databricks
 * and Dask. (A value held only in one process's memory is checked apart, with `samePlace`.)
 */
export function mayFeed(madeOn: string, runsOn: string): boolean {
  return kindOf(madeOn) === kindOf(runsOn);
}
