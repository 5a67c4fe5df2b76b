// Encodes request parameters into a query string the way the Python SDK does (databricks-api.md
// §0): booleans as `true`/`false`, nested objects flattened with dots, lists as repeated keys.

/** A value that can travel in a query string. */
export type QueryValue = string | number | boolean | null | undefined | readonly QueryValue[] | { readonly [key: string]: QueryValue };

/** Query parameters by name. */
export type QueryParams = Readonly<Record<string, QueryValue>>;

/** `?a=1&b=true&filter_by.cluster_sources=API&filter_by.cluster_sources=UI`, or `''` when empty. */
export function encodeQuery(query: QueryParams | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  const add = (key: string, value: QueryValue): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value as readonly QueryValue[]) add(key, item);
    } else if (typeof value === 'object') {
      for (const [inner, innerValue] of Object.entries(value)) add(`${key}.${inner}`, innerValue);
    } else {
      params.append(key, String(value));
    }
  };
  for (const [key, value] of Object.entries(query)) add(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
