// The bundle `cairn start` runs (see build.ts, which writes it to dist/): every @cairn/* package,
// TypeScript compiled, in one JavaScript entry, start.js (with chunks it loads on demand in
// chunks/), so a node starts without compiling TypeScript at run time, plus the RPC read threads'
// entry, rpc-read-worker.js, and the entry of `cairn staking` and `cairn gov`, chain-cli.js.
//
// What the start costs is mostly loading modules (bench/start-time.ts measures it): Node resolves,
// reads, compiles and links each module file on its own, and the npm packages a node runs were
// ~1000 small files (viem alone 344); bundled, ~200 remain and the start takes ~40% less CPU. So most npm packages are bundled too, each with what it
// imports; only those that need their own files at run time stay in node_modules (NOT_BUNDLED).
import { createRequire, isBuiltin } from 'node:module'
import { type BuildOptions, build } from 'esbuild'

/**
 * npm packages bundled into the entry, with everything they import in turn (a bundled file's bare
 * imports are bundled too, unless NOT_BUNDLED): the EVM stack, the HTTP server, the metrics.
 * Bundled packages hold no state shared with a package outside the bundle.
 */
const BUNDLED = [
  '@ethereumjs',
  '@noble/hashes',
  '@noble/curves',
  // ML-DSA (the validators' post-quantum keys), ~10 module files loaded at every start otherwise
  '@noble/post-quantum',
  '@scure/base',
  '@scure/bip32',
  '@scure/bip39',
  'zod',
  'lru-cache',
  'ethereum-cryptography',
  'eventemitter3',
  'async-mutex',
  'smol-toml',
  // viem (with ox and abitype) tree-shaken to the few ABI functions the node calls: 400 files less
  'viem',
  'ox',
  'abitype',
  'jose',
  'cockatiel',
  // fastify, its plugins and their dependencies (semver, avvio, find-my-way, ws…): 150 files
  'fastify',
  '@fastify/websocket',
  '@fastify/cors',
  'helmet',
  'prom-client',
  'commander',
]

/**
 * Packages that stay in node_modules even when a bundled package imports them: they find files of
 * their own at run time (a native addon through node-gyp-build, pino's worker-thread transports).
 */
const NOT_BUNDLED = ['classic-level', 'node-gyp-build', 'pino', 'thread-stream', 'bufferutil', 'utf-8-validate']

const matches = (list: readonly string[], path: string) => list.some((p) => path === p || path.startsWith(`${p}/`))

/**
 * `node:http`'s exports that Node 22+ makes getters loading undici (the WebSocket client):
 * importing `node:http` from ESM reads every export, which loaded undici at each start (~100 ms
 * of CPU). The bundle takes node:http through a module of its own that exports the others.
 */
const LAZY_HTTP_EXPORTS = new Set(['WebSocket', 'CloseEvent', 'MessageEvent', 'default'])

function httpShim(): string {
  const names = Object.keys(createRequire(import.meta.url)('node:http')).filter((k) => !LAZY_HTTP_EXPORTS.has(k))
  return [
    "const http = process.getBuiltinModule('node:http')",
    'export default http',
    `export const { ${names.join(', ')} } = http`,
  ].join('\n')
}

export interface BundleOptions {
  /** Where start.js, chunks/ and rpc-read-worker.js go (emptied first by the caller). */
  outdir: string
  /** Source maps beside the files (the build writes them; a test bundle does without). */
  sourcemap?: boolean
}

/** Builds the bundle into `outdir`; it must sit in packages/node/<dir> (it reads ../package.json). */
export async function bundle(opts: BundleOptions): Promise<void> {
  const options = {
    entryPoints: [new URL('./src/cli/start-main.ts', import.meta.url).pathname],
    outdir: opts.outdir,
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
    sourcemap: opts.sourcemap === false ? false : 'linked',
    // Without comments and indentation the files are ~40% smaller: fewer bytes for Node to read,
    // decode and hash (the compile cache's key) and for V8 to scan at each start. Pure ASCII
    // besides (the comments held a few `…` and `≥`): V8 keeps a source with a single non-ASCII
    // character as a two-byte string, twice the memory and a slower decode. Names are kept
    // (stack traces name functions; lines map back through the source maps).
    minifyWhitespace: true,
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'warning',
    // Bundled CommonJS packages require Node's built-in modules: an ES module has no `require`.
    banner: {
      js: "import { createRequire as __cairnCreateRequire } from 'node:module'; const require = __cairnCreateRequire(import.meta.url);",
    },
    // The workspace packages and BUNDLED are bundled. Every other bare import stays external, as the
    // absolute path of the file it resolves to from its importer: a package may have its own nested
    // copy of a dependency (packages/crypto/node_modules/@noble/curves), which a bare name would miss.
    plugins: [
      {
        name: 'external-npm-packages',
        setup(b) {
          b.onResolve({ filter: /^(node:)?http$/ }, () => ({ path: 'node:http', namespace: 'cairn-http' }))
          b.onLoad({ filter: /.*/, namespace: 'cairn-http' }, () => ({ contents: httpShim(), loader: 'js' }))
          b.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.path.startsWith('@cairn/') || args.path.startsWith('node:') || args.pluginData === 'inner') {
              return undefined
            }
            if (matches(BUNDLED, args.path)) return undefined
            // A bundled package's own dependencies (a file esbuild reads from node_modules is bundled).
            if (args.importer.includes('/node_modules/') && !matches(NOT_BUNDLED, args.path) && !isBuiltin(args.path)) {
              return undefined
            }
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
  // The proof-of-work mining threads' entry (`--mine`, `cairn miner`: src/mine-worker-url.ts finds
  // it as dist/mine-worker.js), built on its own as the read threads' one.
  await build({
    ...options,
    entryPoints: [new URL('../consensus/src/pow/mine-worker.ts', import.meta.url).pathname],
    entryNames: 'mine-worker',
    splitting: false,
  })
  // `cairn staking` and `cairn gov` (src/cli/chain-main.ts; bin/cairn.js runs dist/chain-cli.js for
  // them while it is current): transaction commands a validator runs again and again, each paying
  // ~1.5 s of CPU before its first request from the sources, ~0.4 s from here. Built on its own, as
  // the worker: start.js and its chunks stay what they were. Its chunks (the consensus code `staking
  // rotate-key` loads) sit beside the entry, so `../package.json` (version.ts) resolves from each.
  await build({
    ...options,
    entryPoints: [new URL('./src/cli/chain-main.ts', import.meta.url).pathname],
    entryNames: 'chain-cli',
    chunkNames: 'chain-cli-[hash]',
  })
}
