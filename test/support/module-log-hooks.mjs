// The loader hook behind module-log.mjs (it runs on node's loader thread): one line per module.
import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  if (process.env.CHOPPA_MODULE_LOG) appendFileSync(process.env.CHOPPA_MODULE_LOG, `${url}\n`);
  return nextLoad(url, context);
}
