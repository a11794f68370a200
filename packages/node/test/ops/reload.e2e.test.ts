// Hot reload against a real `cairn start --dev` process with a config file: API keys, rate limits
// and the log level change on SIGHUP and on a file change; a key outside the safe subset is logged
// as needing a restart; a broken file is refused and the running config kept.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashApiKey } from '@cairn/service-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from '../cli/run-cli.ts'

const OLD_KEY = randomBytes(16).toString('hex')
const NEW_KEY = randomBytes(16).toString('hex')

let dir: string
let file: string
let child: ChildProcess
let out = ''
let url: string

function config(opts: {
  key: string
  perIp: number
  level: string
  priceBump?: number
  cors?: string
  extra?: string
}): string {
  return [
    opts.cors === undefined ? '' : `[http]\ncors = ["${opts.cors}"]\n`,
    opts.priceBump === undefined ? '' : `[txpool]\npriceBump = ${opts.priceBump}\n`,
    `[log]\nlevel = "${opts.level}"\nformat = "json"\n`,
    `[rateLimit]\nenabled = true\nwindowSeconds = 600\nperIp = ${opts.perIp}\n`,
    `[[auth.apiKeys]]\nname = "ops"\nkeyHash = "${hashApiKey(opts.key)}"\nrole = "admin"\n`,
    opts.extra ?? '',
  ].join('\n')
}

/** One call from `localAddress`; the HTTP status. */
function status(method: string, localAddress: string, headers: Record<string, string> = {}): Promise<number> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }))
  })
}

const APP = 'https://app.example.com'

/** The Access-Control-Allow-Origin a POST from the APP origin gets (null: none). */
async function allowOrigin(): Promise<string | null> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: APP },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  })
  await res.arrayBuffer()
  return res.headers.get('access-control-allow-origin')
}

/** Waits until the output (from `from` on) matches. */
async function logged(pattern: RegExp, from: number, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = pattern.exec(out.slice(from))
    if (m) return m[0]
    if (Date.now() > deadline)
      throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${out.slice(from)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-reload-'))
  file = join(dir, 'cairn.toml')
  writeFileSync(file, config({ key: OLD_KEY, perIp: 3, level: 'info' }))
  child = spawn(process.execPath, [CAIRN_BIN, 'start', '--dev', '--ephemeral', '--http.port', '0', '--config', file], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8')
  })
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString('utf8')
  })
  url = (await logged(/Listening on http:\/\/[^\s]+/, 0, 60_000)).replace('Listening on ', '')
}, 70_000)

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((r) => child.once('close', r))
    child.kill('SIGTERM')
    const t = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 10_000)
    await exited
    clearTimeout(t)
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('config hot reload (real cairn process)', () => {
  it('before: the old key works, the new one is refused, an IP gets 3 calls', async () => {
    expect(await status('evm_mine', '127.0.0.1', { 'x-api-key': OLD_KEY })).toBe(200)
    expect(await status('evm_mine', '127.0.0.1', { 'x-api-key': NEW_KEY })).toBe(401)
    for (let i = 0; i < 3; i++) expect(await status('eth_chainId', '127.0.0.2')).toBe(200)
    expect(await status('eth_chainId', '127.0.0.2')).toBe(429)
    expect(out).not.toContain('"msg":"http request served"')
    expect(await allowOrigin()).toBeNull()
  })

  it('SIGHUP applies new API keys, rate limit and log level; txpool.priceBump needs a restart', async () => {
    const from = out.length
    writeFileSync(file, config({ key: NEW_KEY, perIp: 50, level: 'debug', priceBump: 25, cors: APP }))
    child.kill('SIGHUP')
    const line = await logged(/\{[^\n]*"trigger":"(SIGHUP|file change)"[^\n]*"msg":"reloaded: [^"]*"\}/, from)
    expect(line).toContain('reloaded: auth.apiKeys, http.cors, log.level, rateLimit.perIp')
    expect(await allowOrigin()).toBe(APP)
    await logged(/config txpool\.priceBump changed: needs a restart/, from)

    expect(await status('evm_mine', '127.0.0.1', { 'x-api-key': NEW_KEY })).toBe(200)
    expect(await status('evm_mine', '127.0.0.1', { 'x-api-key': OLD_KEY })).toBe(401)
    expect(await status('eth_chainId', '127.0.0.2')).toBe(200) // 4th call in the window, now under 50
    await logged(/"msg":"http request served"/, from) // debug lines now
    expect(out.slice(from)).toMatch(/"trigger":"SIGHUP"/)
  })

  it('a file change alone reloads (debounced): the limit drops back', async () => {
    const from = out.length
    writeFileSync(file, config({ key: NEW_KEY, perIp: 1, level: 'debug', priceBump: 25, cors: APP }))
    await logged(/"trigger":"file change"[^\n]*"msg":"reloaded: rateLimit\.perIp"/, from)
    expect(await status('eth_chainId', '127.0.0.3')).toBe(200)
    expect(await status('eth_chainId', '127.0.0.3')).toBe(429)
  })

  it('a broken file is refused whole and the running config stays', async () => {
    const from = out.length
    writeFileSync(file, config({ key: OLD_KEY, perIp: 1, level: 'debug', extra: '[rateLimit2]\nx = 1\n' }))
    child.kill('SIGHUP')
    await logged(/config reload refused[^\n]*|[^\n]*rateLimit2[^\n]*config reload refused/, from)
    expect(await status('evm_mine', '127.0.0.1', { 'x-api-key': NEW_KEY })).toBe(200)
    // From a fresh address: refused credentials are charged to the IP too, and 127.0.0.1's window
    // (perIp 1 since the last reload) is spent.
    expect(await status('evm_mine', '127.0.0.4', { 'x-api-key': OLD_KEY })).toBe(401)
    expect(child.exitCode).toBeNull()
  })
})
