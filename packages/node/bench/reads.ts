import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RpcClient } from './rpc-client.ts'

export interface ReadResult {
  requests: number
  errors: number
  seconds: number
  perSecond: number
}

/**
 * What a read load sends: the same body every time, or a body with one 32-byte word that differs
 * per request (`prefix` + the word + `suffix`; the word is `start + n` in hex, so no two requests of
 * a load, nor of loads with ascending starts, are alike).
 */
export type ReadLoad = { fixed: string } | { prefix: string; suffix: string } | AccountsLoad

/**
 * A body naming one of `accounts` addresses, in turn: the transfer rows' recipients
 * (`0xcc…cc` + hex(0x100000 + i), i < accounts), written between `prefix` and `suffix`.
 */
export interface AccountsLoad {
  prefix: string
  suffix: string
  accounts: number
}

/** The address of the transfer rows' `i`th recipient (as `transfers.ts` and `loadgen.mjs` send them). */
export function recipientAddress(i: number): string {
  return `0x${(0x100000 + i).toString(16).padStart(40, 'c')}`
}

/** A load of `method` whose params name one of the first `accounts` transfer recipients in turn. */
export function accountsLoad(method: string, make: (address: string) => unknown[], accounts: number): AccountsLoad {
  const marker = recipientAddress(0)
  const text = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: make(marker) })
  const at = text.indexOf(marker)
  if (at < 0 || text.indexOf(marker, at + 1) >= 0)
    throw new Error(`${method}: the address must appear once in the body`)
  return { prefix: text.slice(0, at), suffix: text.slice(at + marker.length), accounts }
}

/** A load of `method` with the same params every time. */
export function fixedLoad(method: string, params: unknown[]): ReadLoad {
  return { fixed: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) }
}

const SENTINEL = 0xc0ffee_c0ffeen

/**
 * A load whose params differ per request in one 32-byte word: `make(x)` builds the params for
 * word value `x` (an ABI-encoded uint or address argument, say); the body is cut around it.
 */
export function distinctLoad(method: string, make: (word: bigint) => unknown[]): ReadLoad {
  const text = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: make(SENTINEL) })
  const word = SENTINEL.toString(16).padStart(64, '0')
  const at = text.indexOf(word)
  if (at < 0 || text.indexOf(word, at + 1) >= 0)
    throw new Error(`${method}: the varying word must appear once in the body`)
  return { prefix: text.slice(0, at), suffix: text.slice(at + word.length) }
}

/** Where distinct loads start counting: ascending across every call, so no body is ever sent twice. */
let nextWord = 1

function bodyAt(load: ReadLoad, word: number): string {
  if ('fixed' in load) return load.fixed
  if ('accounts' in load) return `${load.prefix}${recipientAddress(word % load.accounts)}${load.suffix}`
  return `${load.prefix}${word.toString(16).padStart(64, '0')}${load.suffix}`
}

/** `wrk` on PATH (Debian's package): a native client that leaves the cores to the node measured. */
export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined
}

/**
 * Sends `load` from `connections` keep-alive connections for `seconds` and counts successful
 * answers per second (a JSON-RPC error or a non-200 counts as an error). `client: 'wrk'` runs
 * `wrk -t1` in its own process (one native thread: the client takes a fraction of a core, so the
 * node gets the rest); `'node'` runs the loops in this process (what autocannon would do: on a
 * 2-core machine the client then competes with the node for the cores).
 */
export async function runReads(
  url: string,
  load: ReadLoad,
  opts: { connections: number; seconds: number; client: 'wrk' | 'node' },
): Promise<ReadResult> {
  return opts.client === 'wrk' ? runWrk(url, load, opts) : runNode(url, load, opts)
}

async function runNode(url: string, load: ReadLoad, opts: { connections: number; seconds: number }) {
  const client = new RpcClient(url, opts.connections)
  let requests = 0
  let errors = 0
  const t0 = performance.now()
  const end = t0 + opts.seconds * 1000
  const loop = async () => {
    while (performance.now() < end) {
      try {
        const text = await client.post(bodyAt(load, nextWord++))
        if (text.includes('"error"')) errors++
        else requests++
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: opts.connections }, loop))
  const seconds = (performance.now() - t0) / 1000
  client.close()
  return { requests, errors, seconds, perSecond: Math.round(requests / seconds) }
}

/** The wrk script of a load: a request per call of `request` with the next word, errors counted per thread. */
function wrkScript(load: ReadLoad, start: number): string {
  const lua = (s: string) => `[==[${s}]==]`
  const body =
    'fixed' in load
      ? `wrk.body = ${lua(load.fixed)}`
      : 'accounts' in load
        ? `local prefix, suffix, n, count = ${lua(load.prefix)}, ${lua(load.suffix)}, ${start}, ${load.accounts}
request = function()
  n = n + 1
  local h = string.format("%x", 0x100000 + n % count)
  return wrk.format(nil, nil, nil, prefix .. "0x" .. string.rep("c", 40 - #h) .. h .. suffix)
end`
        : `local prefix, suffix, n = ${lua(load.prefix)}, ${lua(load.suffix)}, ${start}
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, prefix .. string.format("%064x", n) .. suffix)
end`
  return `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
${body}
local threads = {}
setup = function(thread) table.insert(threads, thread) end
errors = 0
response = function(status, headers, b)
  if status ~= 200 or b:find('"error"', 1, true) then errors = errors + 1 end
end
done = function(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  io.write(string.format("BENCH_WRK %d %d %d\\n", summary.requests, e, summary.duration))
end
`
}

async function runWrk(url: string, load: ReadLoad, opts: { connections: number; seconds: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-wrk-'))
  const script = join(dir, 'load.lua')
  const start = nextWord
  writeFileSync(script, wrkScript(load, start))
  try {
    const seconds = Math.max(1, Math.round(opts.seconds))
    const args = ['-t1', `-c${opts.connections}`, `-d${seconds}s`, '-s', script, url]
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
      let text = ''
      p.stdout.on('data', (d: Buffer) => {
        text += d.toString()
      })
      p.stderr.on('data', (d: Buffer) => {
        text += d.toString()
      })
      p.on('error', reject)
      p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))))
    })
    const m = /BENCH_WRK (\d+) (\d+) (\d+)/.exec(out)
    if (!m) throw new Error(`wrk printed no summary: ${out}`)
    const [total, errors, micros] = [Number(m[1]), Number(m[2]), Number(m[3])]
    // wrk may send a few requests past the count it reports (in flight at the end): skip ahead.
    nextWord = start + total + opts.connections * 4 + 1
    const requests = total - errors
    const secs = micros / 1e6
    return { requests, errors, seconds: secs, perSecond: Math.round(requests / secs) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
