// `npm run build` (also run by `npm ci` / `npm install` through the root `prepare` script): bundles
// the sources `cairn start` runs — every @cairn/* package, TypeScript compiled — into one
// JavaScript entry, dist/start.js (with chunks it loads on demand in dist/chunks/), so a node starts without compiling TypeScript at run time.
// Dependencies from npm stay outside the bundle (imported from node_modules as usual).
// bin/cairn.js uses the bundle for `start` only while no source file is newer than it.
import { rmSync } from 'node:fs'
import { build } from 'esbuild'

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
await build({
  // The RPC read threads' entry (`--rpc.threads`) is a second entry point beside start.js: the
  // pool (src/rpc-threads/pool.ts) starts dist/rpc-read-worker.js when it runs from the bundle.
  entryPoints: {
    start: new URL('./src/cli/start-main.ts', import.meta.url).pathname,
    'rpc-read-worker': new URL('./src/rpc-threads/read-worker.ts', import.meta.url).pathname,
  },
  outdir: new URL('./dist', import.meta.url).pathname,
  entryNames: '[name]',
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
})
console.log(`built packages/node/dist/start.js in ${Math.round(performance.now() - started)} ms`)
