import { statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { createMetricsRegistry, HealthChecks, MetricsServer } from '../src/index.ts'

/** `name{labels} value` lines of a Prometheus text page, by series. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)/.exec(line)
    if (!m) throw new Error(`not Prometheus text: ${line}`)
    out.set(m[1] as string, Number(m[2]))
  }
  return out
}

describe('metrics registry', () => {
  it('exports process metrics (cpu, memory, fds, event-loop lag, gc), build info and datadir disk space', async () => {
    const registry = createMetricsRegistry({ version: '1.2.3', commit: 'abc123', datadir: tmpdir() })
    // Let the GC and event-loop collectors observe something.
    const junk: unknown[] = []
    for (let i = 0; i < 2e5; i++) junk.push({ i })
    global.gc?.()
    await new Promise((r) => setTimeout(r, 50))
    const s = samples(await registry.metrics())
    const names = [...s.keys()].map((k) => k.replace(/\{.*/, ''))
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_open_fds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'cairn_datadir_free_bytes',
      'cairn_datadir_size_bytes',
    ]) {
      expect(names, name).toContain(name)
    }
    // The GC histogram is declared (its series appear after the first collection).
    expect(await registry.metrics()).toContain('# TYPE nodejs_gc_duration_seconds histogram')
    expect(s.get('cairn_build_info{version="1.2.3",commit="abc123"}')).toBe(1)
    const fs = statfsSync(tmpdir())
    const free = s.get('cairn_datadir_free_bytes') as number
    expect(Math.abs(free - fs.bavail * fs.bsize)).toBeLessThan(256 * 1024 * 1024) // moved a little at most
    expect(s.get('cairn_datadir_size_bytes')).toBe(fs.blocks * fs.bsize)
    expect(junk.length).toBe(2e5)
  })
})

describe('MetricsServer', () => {
  it('serves /metrics, /health and /ready on its own port, and nothing else', async () => {
    const registry = createMetricsRegistry({ version: '1', commit: 'x' })
    const health = new HealthChecks({ timeoutMs: 100 })
    let dbOk = true
    health.register('db', async () => {
      if (!dbOk) throw new Error('read-only')
    })
    const server = new MetricsServer({ host: '127.0.0.1', port: 0 }, { registry, health, logger: silentLogger })
    const url = await server.listen()
    try {
      const metrics = await fetch(`${url}/metrics`)
      expect(metrics.status).toBe(200)
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(samples(await metrics.text()).get('cairn_build_info{version="1",commit="x"}')).toBe(1)
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok', checks: [] })
      expect((await fetch(`${url}/ready`)).status).toBe(200)
      dbOk = false
      const down = await fetch(`${url}/ready`)
      expect(down.status).toBe(503)
      expect(await down.json()).toMatchObject({
        status: 'unavailable',
        checks: [{ name: 'db', ok: false, detail: 'read-only' }],
      })
      expect((await fetch(`${url}/`, { method: 'POST', body: '{}' })).status).toBe(405)
      expect((await fetch(`${url}/admin`)).status).toBe(404)
    } finally {
      await server.close()
    }
    await expect(fetch(`${url}/health`)).rejects.toThrow()
  })

  it('says which address is taken', async () => {
    const registry = createMetricsRegistry({ version: '1', commit: 'x' })
    const a = new MetricsServer({ host: '127.0.0.1', port: 0 }, { registry, health: null, logger: silentLogger })
    const port = Number(new URL(await a.listen()).port)
    const b = new MetricsServer({ host: '127.0.0.1', port }, { registry, health: null, logger: silentLogger })
    await expect(b.listen()).rejects.toThrow(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`)
    await a.close()
  })
})
