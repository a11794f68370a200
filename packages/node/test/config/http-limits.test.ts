import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { rpcServerSettings } from '../../src/config/rpc-settings.ts'

describe('HTTP limits on by default', () => {
  it.each([
    { dev: true },
    { profile: 'prod' },
    { profile: 'test' },
  ])('a request timeout and a per-IP connection cap reach the server with %o', (flags) => {
    const c = loadConfig({ flags, env: {} })
    const s = rpcServerSettings(c)
    expect(s.requestTimeoutMs).toBe(30_000)
    expect(s.maxConnectionsPerIp).toBe(512)
  })

  it('takes both from the environment', () => {
    const c = loadConfig({
      flags: { dev: true },
      env: { CAIRN_HTTP_REQUEST_TIMEOUT_MS: '5000', CAIRN_HTTP_MAX_CONNECTIONS_PER_IP: '0' },
    })
    expect(c.http.requestTimeoutMs).toBe(5000)
    expect(c.http.maxConnectionsPerIp).toBe(0)
  })
})
