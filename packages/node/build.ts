// `npm run build` (also run by `npm ci` / `npm install` through the root `prepare` script): writes
// the bundle `cairn start` runs (bundle.ts: every @cairn/* package and most npm packages, compiled
// into dist/start.js with chunks it loads on demand in dist/chunks/), so a node starts without
// compiling TypeScript at run time and without resolving hundreds of module files.
// bin/cairn.js uses the bundle for `start` only while no source file is newer than it.
import { rmSync } from 'node:fs'
import { bundle } from './bundle.ts'

const started = performance.now()
// Chunks are named by content hash: start from an empty dist/ so old ones do not pile up.
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true })
await bundle({ outdir: new URL('./dist', import.meta.url).pathname })
console.log(`built packages/node/dist/start.js in ${Math.round(performance.now() - started)} ms`)
