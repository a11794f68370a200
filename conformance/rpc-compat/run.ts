/**
 * The hive rpc-compat suite (ethereum/execution-apis `tests/`), run as hive's
 * simulators/ethereum/rpc-compat runs it, against a real `cairn` process:
 *
 *   cairn init --genesis fixtures/genesis.json --datadir D
 *   cairn import fixtures/chain.rlp --datadir D
 *   cairn start --datadir D --profile test --no-mining --rpc.api eth,net,web3,debug,txpool,testing --http.port 0
 *
 * then every `.io` case in hive's order, each request POSTed over HTTP and each response compared
 * with the recording (JSON equality, error messages ignored; `speconly` results checked against
 * the OpenRPC result schema). Standalone: `node --import tsx conformance/rpc-compat/run.ts [filter]`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type SuiteFailure, type SuiteOptions, type SuiteResult, summary } from '../suite.ts'
import { cairn, type RunningCairn, startCairn } from './cairn-cli.ts'
import { loadCaseBundle, type RpcCase } from './cases.ts'
import { responseDiff } from './compare.ts'
import { ResultSchemas } from './result-schemas.ts'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

/** Longest one request may take before the case fails (hive's client allows 5 s; a slow CI box gets more). */
const REQUEST_TIMEOUT_MS = 60_000

export async function run(opts: SuiteOptions = {}): Promise<SuiteResult> {
  const bundle = loadCaseBundle(join(FIXTURES, 'cases.json.gz'))
  const match = (name: string) => opts.filter === undefined || name.includes(opts.filter)
  const cases = bundle.cases.filter((c) => match(c.name))
  const result: SuiteResult = {
    suite: opts.reference ? 'rpc-compat (reference)' : 'rpc-compat',
    passed: 0,
    failed: 0,
    skipped: bundle.missing.filter((m) => match(m.name)),
    failures: [],
  }
  if (cases.length === 0) return result

  const workdir = mkdtempSync(join(opts.workdir ?? tmpdir(), 'cairn-rpc-compat-'))
  const datadir = join(workdir, 'datadir')
  let node: RunningCairn | undefined
  try {
    try {
      await cairn(['init', '--genesis', join(FIXTURES, 'genesis.json'), '--datadir', datadir])
      // Reference mode (every speed shim off) imports and serves with `--reference`.
      const reference = opts.reference ? ['--reference'] : []
      await cairn(['import', join(FIXTURES, 'chain.rlp'), '--datadir', datadir, ...reference])
      // a long simulate (121 blocks) needs more than geth's 5 s of wall clock on a loaded machine
      node = await startCairn([
        '--datadir',
        datadir,
        '--profile',
        'test',
        '--no-mining',
        '--log.level',
        'warn',
        '--rpc.evm-timeout-ms',
        '60000',
        // The suite's namespaces (hive starts geth with them in --http.api); a non-dev node serves
        // eth, net, web3 and cairn alone by default.
        '--rpc.api',
        'eth,net,web3,debug,txpool,testing',
        ...reference,
      ])
    } catch (err) {
      // Without the chain no case can pass: each fails with the reason, so the count stays honest.
      const why = `setup failed: ${(err as Error).message}`
      result.failed = cases.length
      result.failures = cases.map((c) => ({ name: c.name, why }))
      return result
    }
    const headNote = await checkHead(node.url)
    const schemas = new ResultSchemas(join(FIXTURES, 'openrpc-results.json.gz'))
    for (const c of cases) {
      const why = await runCase(node.url, c, schemas)
      if (why === undefined) result.passed++
      else {
        result.failed++
        result.failures.push({ name: c.name, why: headNote ? `${why} [${headNote}]` : why })
      }
    }
    return result
  } finally {
    await node?.stop()
    rmSync(workdir, { recursive: true, force: true })
  }
}

/**
 * hive makes the chain's last block the head with engine_forkchoiceUpdatedV3 (`headfcu.json`);
 * Cairn has no engine API and its head after `cairn import` is the file's last block. Says so
 * when the two differ (every failure then carries the note).
 */
async function checkHead(url: string): Promise<string | undefined> {
  const fcu = JSON.parse(readFileSync(join(FIXTURES, 'headfcu.json'), 'utf8')) as {
    params: [{ headBlockHash: string }]
  }
  const want = fcu.params[0].headBlockHash
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['latest', false] })
  const res = JSON.parse(await post(url, body)) as { result?: { hash?: string; number?: string } }
  const got = res.result?.hash
  return got === want ? undefined : `head after import is ${res.result?.number} ${got}, headfcu.json names ${want}`
}

/** Replays one case; undefined when every response matches, else why not. */
async function runCase(url: string, c: RpcCase, schemas: ResultSchemas): Promise<string | undefined> {
  let response: string | undefined
  let method = ''
  for (const msg of c.messages) {
    if (msg.send) {
      method = (JSON.parse(msg.data) as { method?: string }).method ?? ''
      try {
        response = await post(url, msg.data)
      } catch (err) {
        return `request failed: ${(err as Error).message}`
      }
      continue
    }
    if (response === undefined) return 'invalid test: a response before its request'
    let actual: { result?: unknown; error?: unknown }
    try {
      actual = JSON.parse(response.trim())
    } catch {
      return `invalid JSON response: ${response.slice(0, 200)}`
    }
    if (c.speconly && !('error' in actual)) {
      const bad = schemas.check(method, actual.result)
      if (bad) return bad
    } else {
      const d = responseDiff(actual, JSON.parse(msg.data))
      if (d) return `${method}: response differs from the recording:\n${d}`
    }
    response = undefined
  }
  return response === undefined ? undefined : 'invalid test: a request without a recorded response'
}

async function post(url: string, body: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  return res.text()
}

/** Failures grouped by method (the folder of the case name), for the report. */
export function failuresByMethod(failures: SuiteFailure[]): Map<string, SuiteFailure[]> {
  const by = new Map<string, SuiteFailure[]>()
  for (const f of failures) {
    const m = f.name.split('/')[0] ?? f.name
    by.set(m, [...(by.get(m) ?? []), f])
  }
  return by
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const verbose = args.includes('--verbose') || args.includes('-v')
  const filter = args.find((a) => !a.startsWith('-'))
  const r = await run(filter === undefined ? {} : { filter })
  for (const [m, fs] of failuresByMethod(r.failures)) {
    process.stdout.write(`\n${m}: ${fs.length} failed\n`)
    for (const f of fs)
      process.stdout.write(`  ${f.name}${verbose ? `\n    ${f.why.replaceAll('\n', '\n    ')}` : ''}\n`)
  }
  for (const s of r.skipped) process.stdout.write(`skipped ${s.name}: ${s.why}\n`)
  process.stdout.write(`\n${summary(r)}\n`)
}
