#!/usr/bin/env node
// Launcher kept in git so npm can link the bin before the build has run. It runs the bundled
// server (`scripts/bundle.mjs`), a few files to load rather than every module of `dist/`.
import '../dist/choppa-lsp.bundle.js';
