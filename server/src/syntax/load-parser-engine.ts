// Chooses the parser engine once, at start: the native binding where it loads, WebAssembly
// otherwise (or whichever `CHOPPA_PARSER=native|wasm` forces). Asking for `native` where it does
// not load is an error with the loader's reason, never a silent switch.

import { loadNativeEngine } from './native-engine.js';
import { hasParserEngine, parserEngine, parserPreference, useParserEngine, type ParserEngine } from './parser-engine.js';

// web-tree-sitter (and its runtime) load only where the native binding does not.
const loadWasmEngine = async (nativeUnavailable?: string): Promise<ParserEngine> => (await import('./wasm-engine.js')).loadWasmEngine(nativeUnavailable);

/** The first line of a loader error, without the stack (module paths stay: they say what is missing). */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}

/**
 * Loads and chooses the engine for this process (a second call returns the first choice).
 * `preference` is the raw `CHOPPA_PARSER` value.
 */
export async function loadParserEngine(preference: string | undefined = process.env['CHOPPA_PARSER']): Promise<ParserEngine> {
  if (hasParserEngine()) return parserEngine();
  const wanted = parserPreference(preference);
  let engine: ParserEngine;
  if (wanted === 'wasm') {
    engine = await loadWasmEngine();
  } else {
    try {
      engine = loadNativeEngine();
    } catch (error) {
      if (wanted === 'native') throw new Error(`CHOPPA_PARSER=native, but the native tree-sitter binding does not load: ${reasonOf(error)}`);
      engine = await loadWasmEngine(reasonOf(error));
    }
  }
  useParserEngine(engine);
  return engine;
}
