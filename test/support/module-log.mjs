// `node --import` this file to have every ES module the process loads appended, as its URL, to the
// file CHOPPA_MODULE_LOG names: a test can then see which code a server loaded, and when.
import { register } from 'node:module';

register('./module-log-hooks.mjs', import.meta.url);
