#!/usr/bin/env node
// `cairn-solc`: `cairn solc` as one executable, for tools that take a solc binary's path
// (foundry.toml: solc = "node_modules/.bin/cairn-solc"). See src/cli/solc-shim.ts.
process.argv.splice(2, 0, 'solc')
await import('./cairn.js')
