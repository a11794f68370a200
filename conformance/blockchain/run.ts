/**
 * execution-spec-tests BlockchainTests through Cairn's import path, as `cairn init` + `cairn
 * import` run them: the fixture's genesis as a geth-style genesis.json through Cairn's parser (its
 * hash must be the fixture's), a Chain on a real LevelDB in a temporary directory, every block's
 * RLP read as `cairn import` reads a chain file and imported by the chain's importer in order — refused when the fixture expects an
 * exception, accepted (with the fixture's hash) otherwise — and the head equal to `lastblockhash`.
 *
 *   node --import tsx conformance/blockchain/run.ts [filter]
 *
 * runs the vendored set (fixtures/); `CAIRN_EEST_DIR=…/blockchain_tests` runs an unpacked
 * release instead; `CAIRN_EEST_REPORT=file.json` writes every failure there, and
 * `CAIRN_EEST_REASONS=file.json` each expected refusal with Cairn's reason. Cases run one after another in this process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Chain, readChainFile } from '@cairn/chain'
import { LevelKV } from '@cairn/db'
import { bytesToHex, errorMessage, silentLogger } from '@cairn/utils'
import { hexToBytes } from '@ethereumjs/util'
// The fixtures' blocks carry no seal (`sealEngine: NoProof`): the rules `cairn import` runs under.
import { importEngine } from '../../packages/node/src/cli/commands/import.ts'
import { type SuiteFailure, type SuiteOptions, type SuiteResult, summary } from '../suite.ts'
import { type BlockchainCase, type NamedCase, readDirectory, readVendored } from './fixture.ts'
import { genesisJson } from './genesis.ts'

/** Runs the suite; see the module comment. */
export async function run(opts: SuiteOptions = {}): Promise<SuiteResult> {
  const result: SuiteResult = {
    suite: opts.reference ? 'blockchain (reference)' : 'blockchain',
    passed: 0,
    failed: 0,
    skipped: [],
    failures: [],
    ran: [],
  }
  const every = opts.every ?? 1
  let seen = 0
  const workdir = mkdtempSync(join(opts.workdir ?? tmpdir(), 'cairn-eest-'))
  const dir = process.env['CAIRN_EEST_DIR']
  const cases: AsyncIterable<NamedCase> | Iterable<NamedCase> = dir ? readDirectory(dir) : readVendored()
  let n = 0
  try {
    for await (const c of cases) {
      if (opts.filter && !c.name.includes(opts.filter)) continue
      if (seen++ % every !== 0) continue
      if (c.fixture.sealEngine !== undefined && c.fixture.sealEngine !== 'NoProof') {
        result.skipped.push({ name: c.name, why: `sealEngine ${c.fixture.sealEngine} (only NoProof fixtures run)` })
        continue
      }
      const why = await runCase(c.fixture, join(workdir, String(n++)), opts.reference === true)
      result.ran?.push(c.name)
      if (why === undefined) result.passed++
      else {
        result.failed++
        result.failures.push({ name: c.name, why })
      }
    }
  } finally {
    rmSync(workdir, { recursive: true, force: true })
  }
  return result
}

/** Each expected refusal and Cairn's reason for it, for `CAIRN_EEST_REASONS=file.json`. */
const refusals: { expected: string; got: string }[] = []

/** Runs one case in a fresh datadir; returns why it failed, or undefined when it passed. */
export async function runCase(c: BlockchainCase, datadir: string, reference = false): Promise<string | undefined> {
  const kv = new LevelKV({ path: datadir })
  await kv.open()
  try {
    let chain: Chain
    try {
      chain = await Chain.open(
        { genesis: genesisJson(c), genesisSource: 'fixture genesis', ...(reference ? { reference } : {}) },
        { kv, engine: importEngine, logger: silentLogger, metrics: null },
      )
    } catch (err) {
      return `genesis refused: ${errorMessage(err)}`
    }
    const genesisHash = bytesToHex(chain.genesisBlock.hash())
    if (genesisHash !== c.genesisBlockHeader.hash.toLowerCase()) {
      return `genesis hash ${genesisHash}, fixture says ${c.genesisBlockHeader.hash}`
    }
    const file = `${datadir}.rlp`
    const commons = ((chain as unknown as { commons?: unknown }).commons ?? chain.common) as Parameters<
      typeof readChainFile
    >[1]
    for (const [i, b] of c.blocks.entries()) {
      const expected = b.expectException
      let imported: string | undefined
      let refusal: string | undefined
      try {
        // As `cairn import` reads it: a chain file, each block decoded with its fork's Common.
        writeFileSync(file, hexToBytes(b.rlp as `0x${string}`))
        for (const block of readChainFile(file, commons)) {
          const r = await chain.processBlock(block, { source: 'file' })
          if (r.status === 'error') throw r.error
          if (r.status !== 'imported' && r.status !== 'known') throw new Error(`not imported: ${r.status}`)
          imported = bytesToHex(r.block.hash())
        }
      } catch (err) {
        refusal = errorMessage(err)
      }
      if (expected !== undefined && refusal !== undefined) refusals.push({ expected, got: refusal })
      if (expected !== undefined && refusal === undefined) {
        return `block ${i} imported (${imported}) but the fixture expects ${expected}`
      }
      if (expected === undefined && refusal !== undefined) return `block ${i} refused: ${refusal}`
      if (expected === undefined && b.blockHeader && imported !== b.blockHeader.hash.toLowerCase()) {
        return `block ${i} imported as ${imported}, fixture says ${b.blockHeader.hash}`
      }
    }
    const head = bytesToHex(chain.head.hash())
    if (head !== c.lastblockhash.toLowerCase()) return `head ${head}, fixture's lastblockhash ${c.lastblockhash}`
    return undefined
  } finally {
    await kv.close()
    rmSync(datadir, { recursive: true, force: true })
    rmSync(`${datadir}.rlp`, { force: true })
  }
}

/** The first failures, one line each, for the standalone run. */
export function describeFailures(failures: SuiteFailure[], max = 20): string {
  return failures
    .slice(0, max)
    .map((f) => `  ${f.name}\n    ${f.why.slice(0, 400)}`)
    .join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now()
  // `--reference`: the chain without its speed shims (`ChainOptions.reference`).
  const args = process.argv.slice(2)
  const reference = args.includes('--reference')
  const filter = args.find((a) => !a.startsWith('--'))
  const r = await run({ ...(filter ? { filter } : {}), ...(reference ? { reference } : {}) })
  process.stdout.write(`${summary(r)} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
  if (r.failures.length > 0) process.stdout.write(`first failures:\n${describeFailures(r.failures)}\n`)
  for (const s of r.skipped.slice(0, 5)) process.stdout.write(`skipped ${s.name}: ${s.why}\n`)
  const report = process.env['CAIRN_EEST_REPORT']
  if (report) writeFileSync(report, JSON.stringify(r, null, 1))
  const reasons = process.env['CAIRN_EEST_REASONS']
  if (reasons) writeFileSync(reasons, JSON.stringify(refusals, null, 1))
  process.exitCode = r.failed > 0 ? 1 : 0
}
