// /health, /ready and request ids over the real HTTP transport of an in-process dev node.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StartedNode, startDevNode } from './live-node.ts'

interface Ready {
  status: string
  failing: string[]
  checks: { name: string; ok: boolean; detail: string }[]
}

describe('health and readiness', () => {
  let node: StartedNode
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-ready-'))
    // A real LevelDB datadir, so that closing it makes the database unwritable.
    node = await startDevNode({}, { flags: { ephemeral: false, datadir: dir } })
  })
  afterAll(async () => {
    await node?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('/health answers 200 while the process runs', async () => {
    const res = await fetch(`${node.url}/health`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { status: string }).status).toBe('ok')
  })

  it('/ready is 200 with a passing db check, 503 naming it while the DB is closed, 200 again after', async () => {
    const ok = await fetch(`${node.url}/ready`)
    expect(ok.status).toBe(200)
    const body = (await ok.json()) as Ready
    expect(body.status).toBe('ok')
    expect(body.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'db', ok: true })]))

    await node.kv.close()
    const down = await fetch(`${node.url}/ready`)
    expect(down.status).toBe(503)
    const bad = (await down.json()) as Ready
    expect(bad.status).toBe('unavailable')
    expect(bad.failing).toEqual(['db'])
    expect(bad.checks.find((c) => c.name === 'db')?.detail).not.toBe('')

    await node.kv.open()
    const back = await fetch(`${node.url}/ready`)
    expect(back.status).toBe(200)
  })

  it('echoes a sane x-request-id and generates one otherwise', async () => {
    const given = await fetch(`${node.url}/health`, { headers: { 'x-request-id': 'abc-123.x' } })
    expect(given.headers.get('x-request-id')).toBe('abc-123.x')
    const none = await fetch(`${node.url}/health`)
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const insane = await fetch(`${node.url}/health`, { headers: { 'x-request-id': 'a b<script>' } })
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const rpc = await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'rpc-1' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' }),
    })
    expect(rpc.headers.get('x-request-id')).toBe('rpc-1')
  })
})
