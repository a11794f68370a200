import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'

/**
 * One case of an execution-spec-tests BlockchainTest fixture (the `blockchain_test` format, the
 * fields this runner reads). Numbers and bytes are 0x-hex strings, as the fixtures write them.
 */
export interface BlockchainCase {
  network: string
  genesisBlockHeader: Record<string, string> & { hash: string }
  pre: Record<string, { balance: string; nonce: string; code: string; storage: Record<string, string> }>
  lastblockhash: string
  sealEngine?: string
  config?: {
    chainid?: string
    blobSchedule?: Record<string, { target: string; max: string; baseFeeUpdateFraction: string }>
  }
  blocks: {
    rlp: string
    blockHeader?: { hash: string }
    expectException?: string
    rlp_decoded?: unknown
  }[]
}

/** A case with its name: `file::test` as execution-spec-tests names it. */
export interface NamedCase {
  name: string
  fixture: BlockchainCase
}

/** The networks this suite runs: Cancun, Prague and Osaka, and transitions between them. */
export const NETWORKS = new Set([
  'Cancun',
  'Prague',
  'Osaka',
  'ShanghaiToCancunAtTime15k',
  'CancunToPragueAtTime15k',
  'PragueToOsakaAtTime15k',
])

/** The vendored, trimmed set: NDJSON lines of {@link NamedCase}, gzipped (see fixtures/README.md). */
export const VENDORED = new URL('./fixtures/blockchain-tests.ndjson.gz', import.meta.url)

/** Reads the vendored NDJSON set, one case at a time. */
export async function* readVendored(path: string | URL = VENDORED): AsyncGenerator<NamedCase> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity })
  for await (const line of lines) if (line.length > 0) yield JSON.parse(line) as NamedCase
}

/**
 * Reads every `*.json` fixture file under `dir` (an unpacked release's `blockchain_tests/`), in
 * path order, yielding the cases of the suite's networks. For the full local run.
 */
export function* readDirectory(dir: string): Generator<NamedCase> {
  for (const file of jsonFiles(dir)) {
    const text = readFileSync(file, 'utf8')
    // A Git LFS pointer stands for a file the mirror did not hold.
    if (text.startsWith('version https://git-lfs')) continue
    const cases = JSON.parse(text) as Record<string, BlockchainCase>
    for (const [test, fixture] of Object.entries(cases)) {
      if (!NETWORKS.has(fixture.network)) continue
      yield { name: `${relative(dir, file)}::${test}`, fixture }
    }
  }
}

/** Every `.json` file under `dir`, sorted by path (deterministic order). */
export function jsonFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry)
      if (statSync(p).isDirectory()) walk(p)
      else if (entry.endsWith('.json') && !entry.startsWith('.')) out.push(p)
    }
  }
  walk(dir)
  return out
}
