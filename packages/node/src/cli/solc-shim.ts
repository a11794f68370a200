import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'

/**
 * `cairn solc`: the solc-js compiler Cairn ships (npm `solc`, a WebAssembly build) behind the native
 * `solc` command line's `--version` and `--standard-json` interfaces, so tools that run a solc
 * binary (Foundry's `solc = "…"` in foundry.toml, Hardhat's native compiler path) compile offline
 * with it. Only what those tools use is served: `--version`, and `--standard-json` (input JSON on
 * stdin, or as a file argument; output JSON on stdout) with `--base-path`, `--include-path` and
 * `--allow-paths` for resolving imports the input does not carry. Anything else exits 2.
 */

interface Solc {
  version(): string
  compile(input: string, callbacks?: { import(path: string): { contents: string } | { error: string } }): string
}

export interface ShimIo {
  stdin(): string
  stdout(text: string): void
  stderr(text: string): void
}

export interface SolcArgs {
  version: boolean
  standardJson: boolean
  basePath: string | undefined
  includePaths: string[]
  inputFile: string | undefined
}

/** Parses the native CLI's arguments the shim serves; a message for others. */
export function parseSolcArgs(argv: readonly string[]): SolcArgs | string {
  const out: SolcArgs = {
    version: false,
    standardJson: false,
    basePath: undefined,
    includePaths: [],
    inputFile: undefined,
  }
  let missing: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const [flag, inline] =
      a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    const value = (): string => {
      const v = inline ?? argv[++i]
      if (v === undefined) missing = `${flag} needs a value`
      return v ?? ''
    }
    if (flag === '--version' || flag === '-v') out.version = true
    else if (flag === '--standard-json') out.standardJson = true
    else if (flag === '--base-path') out.basePath = value()
    else if (flag === '--include-path') out.includePaths.push(value())
    else if (flag === '--allow-paths') value()
    else if (flag === '--no-import-callback') {
    } else if (!flag.startsWith('-') && out.inputFile === undefined) out.inputFile = flag
    else return `unsupported option ${flag} (the shim serves --version and --standard-json only)`
    if (missing) return missing
  }
  if (!out.version && !out.standardJson) return 'expected --version or --standard-json'
  return out
}

function loadSolc(): Solc {
  return createRequire(import.meta.url)('solc') as Solc
}

/** Runs the shim; returns the exit code. */
export function runSolcShim(argv: readonly string[], io: ShimIo, solc: Solc = loadSolc()): number {
  const args = parseSolcArgs(argv)
  if (typeof args === 'string') {
    io.stderr(`cairn solc: ${args}\n`)
    return 2
  }
  if (args.version) {
    // The native CLI's banner: tools read the `Version:` line.
    io.stdout(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
    return 0
  }
  const input = args.inputFile !== undefined ? readFileSync(args.inputFile, 'utf8') : io.stdin()
  const roots = [args.basePath ?? process.cwd(), ...args.includePaths]
  const findImport = (path: string): { contents: string } | { error: string } => {
    const candidates = isAbsolute(path) ? [path] : roots.map((r) => resolve(join(r, path)))
    for (const file of candidates) {
      try {
        return { contents: readFileSync(file, 'utf8') }
      } catch {}
    }
    return { error: `File not found: ${path} (looked in ${roots.join(', ')})` }
  }
  io.stdout(solc.compile(input, { import: findImport }))
  return 0
}
