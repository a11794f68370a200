import { describe, expect, it } from 'vitest'
import { connectionLimit, FALLBACK_CONNECTION_LIMIT, openFileLimit } from '../../src/config/descriptors.ts'
import { loadConfig } from '../../src/config/load.ts'
import { rpcServerSettings } from '../../src/config/rpc-settings.ts'

describe('HTTP limits on by default', () => {
  it.each([
    { dev: true },
    { profile: 'prod' },
    { profile: 'test' },
  ])('a request timeout and a per-IP connection cap reach the server with %o', (flags) => {
    const c = loadConfig({ flags, env: {} })
    const s = rpcServerSettings(c, 20_000)
    expect(s.requestTimeoutMs).toBe(30_000)
    expect(s.maxConnectionsPerIp).toBe(512)
    // A connection limit below the descriptors (half of them), and silent connections closed after 5 s.
    expect(s.maxConnections).toBe(10_000)
    expect(s.firstByteTimeoutMs).toBe(5_000)
  })

  it('takes both from the environment', () => {
    const c = loadConfig({
      flags: { dev: true },
      env: { CAIRN_HTTP_REQUEST_TIMEOUT_MS: '5000', CAIRN_HTTP_MAX_CONNECTIONS_PER_IP: '0' },
    })
    expect(c.http.requestTimeoutMs).toBe(5000)
    expect(c.http.maxConnectionsPerIp).toBe(0)
  })

  it('takes the connection limit and the first-byte timeout from the environment (auto, a number, 0 = none)', () => {
    const load = (env: Record<string, string>) => loadConfig({ flags: { dev: true }, env })
    const c = load({ CAIRN_HTTP_MAX_CONNECTIONS: '300', CAIRN_HTTP_FIRST_BYTE_TIMEOUT_MS: '0' })
    expect(rpcServerSettings(c, 20_000)).toMatchObject({ maxConnections: 300, firstByteTimeoutMs: 0 })
    expect(load({ CAIRN_HTTP_MAX_CONNECTIONS: 'auto' }).http.maxConnections).toBe('auto')
    expect(() => load({ CAIRN_HTTP_MAX_CONNECTIONS: 'lots' })).toThrow(/http\.maxConnections/)
    expect(() => load({ CAIRN_HTTP_FIRST_BYTE_TIMEOUT_MS: '-1' })).toThrow(/http\.firstByteTimeoutMs/)
  })
})

describe('the connection limit from the open-file limit', () => {
  it('auto is half the limit, at least 64; a fallback where the limit is unknown; a number is itself', () => {
    expect(connectionLimit('auto', 1_048_576)).toBe(524_288)
    expect(connectionLimit('auto', 1024)).toBe(512)
    expect(connectionLimit('auto', 100)).toBe(64)
    expect(connectionLimit('auto', null)).toBe(FALLBACK_CONNECTION_LIMIT)
    expect(connectionLimit(0, 1024)).toBe(0)
    expect(connectionLimit(300, 1024)).toBe(300)
  })

  it("reads the soft limit from /proc/self/limits' text; unlimited or unreadable is unknown", () => {
    const limits = (soft: string) =>
      `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63711                63711                processes \nMax open files            ${soft}                 1048576              files     \n`
    expect(openFileLimit(() => limits('20000'))).toBe(20_000)
    expect(openFileLimit(() => limits('unlimited'))).toBeNull()
    expect(
      openFileLimit(() => {
        throw new Error('ENOENT')
      }),
    ).toBeNull()
  })
})
