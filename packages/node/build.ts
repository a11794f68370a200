// `npm run build` (also run by `npm ci` / `npm install` through the root `prepare` script): bundles
// the sources `cairn start` runs — every @cairn/* package, TypeScript compiled — into one
// JavaScript entry, dist/start.js (with chunks it loads on demand in dist/chunks/), so a node starts without compiling TypeScript at run time.
// Dependencies from npm stay outside the bundle (imported from node_modules as usual).
// bin/cairn.js uses the bundle for `start` only while no source file is newer than it.
import { rmSync } from 'node:fs'
import { type BuildOptions, build } from 'esbuild'

/**
 * npm packages bundled into dist/start.js (pure JavaScript, no native addon, no worker or dynamic
 * require, no state shared with an external package): the EVM stack and its hashing and encoding.
 * Everything else stays in node_modules.
 */
const BUNDLED = [
  '@ethereumjs',
  '@noble/hashes',
  '@noble/curves',
  '@scure/base',
  '@scure/bip32',
  '@scure/bip39',
  'zod',
  'lru-cache',
  'ethereum-cryptography',
  'eventemitter3',
  'async-mutex',
  'smol-toml',
]

const started = performance.now()
// Chunks are named by content hash: start from an empty dist/ so old ones do not pile up.
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true })
const options = {
  entryPoints: [new URL('./src/cli/start-main.ts', import.meta.url).pathname],
  outdir: new URL('./dist', import.meta.url).pathname,
  entryNames: 'start',
  // What start imports on demand (the p2p host and libp2p, only with the network on) is a chunk
  // of its own, so a dev node does not load it.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  // No `module` condition (esbuild's default adds it): packages such as @opentelemetry/api map it
  // to an ESM build with extensionless imports that only bundlers resolve, not Node.
  conditions: [],
  format: 'esm',
  target: 'node20.19',
  sourcemap: 'linked',
  logLevel: 'warning',
  // The workspace packages are bundled. Every other bare import stays external, as the absolute
  // path of the file it resolves to from its importer: a package may have its own nested copy of a
  // dependency (packages/crypto/node_modules/@noble/curves), which a bare name would miss from dist/.
  plugins: [
    {
      name: 'external-npm-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, async (args) => {
          if (args.path.startsWith('@cairn/') || args.path.startsWith('node:') || args.pluginData === 'inner') {
            return undefined
          }
          // Pure-JS ESM packages of many small files are bundled too: Node resolving, reading and
          // linking their hundreds of modules one by one cost ~20% of the start's CPU.
          if (BUNDLED.some((p) => args.path === p || args.path.startsWith(`${p}/`))) return undefined
          const found = await b.resolve(args.path, {
            resolveDir: args.resolveDir,
            kind: args.kind,
            pluginData: 'inner',
          })
          if (found.errors.length > 0 || found.external) return { path: args.path, external: true }
          return { path: found.path, external: true }
        })
      },
    },
  ],
} satisfies BuildOptions
await build(options)
// The RPC read threads' entry (`--rpc.threads`; src/rpc-threads/pool.ts starts it from the bundle
// as dist/rpc-read-worker.js). Built on its own, without chunks shared with start.js: start.js and
// its chunks stay what they were (a node without read threads loads nothing more), at the cost of
// a second copy of the code on disk.
await build({
  ...options,
  entryPoints: [new URL('./src/rpc-threads/read-worker.ts', import.meta.url).pathname],
  entryNames: 'rpc-read-worker',
  splitting: false,
})
console.log(`built packages/node/dist/start.js in ${Math.round(performance.now() - started)} ms`)
