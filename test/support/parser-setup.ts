// Chooses the parser engine for each test file as the executable does at start: the native
// binding, or whichever `CHOPPA_PARSER=native|wasm` names (`npm run test:wasm` runs the analysis
// tests on WebAssembly). Servers the tests spawn read the same variable.
import { loadParserEngine } from '../../server/src/syntax/load-parser-engine.js';

await loadParserEngine();
