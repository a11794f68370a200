import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { servesTestingNamespace } from '../../src/config/profile.ts'

const load = (flags: Record<string, unknown>, env: Record<string, string> = {}) => loadConfig({ flags, env })

describe('profiles', () => {
  it('prod (the default without --dev) refuses dev accounts, ephemeral and a non-loopback RPC, naming each', () => {
    for (const [flags, named] of [
      [{ profile: 'prod', dev: true }, /dev \(unlocked/],
      [{ ephemeral: true }, /ephemeral/],
      [{ 'http.addr': '0.0.0.0' }, /http\.addr 0\.0\.0\.0/],
      [{ 'http.addr': '10.1.2.3', ephemeral: true }, /ephemeral.*http\.addr 10\.1\.2\.3/],
    ] as const) {
      expect(() => load(flags)).toThrow(named)
    }
    try {
      load({ 'http.addr': '0.0.0.0' })
    } catch (err) {
      expect(err).toMatchObject({
        code: 'CONFIG_INSECURE',
        fault: 'caller',
        hint: expect.stringContaining('profile=test'),
      })
    }
  })

  it('prod accepts a loopback node with a datadir; dev and test accept anything', () => {
    expect(load({}).http.addr).toBe('127.0.0.1')
    expect(load({ 'http.addr': '::1' }).http.addr).toBe('::1')
    expect(load({ dev: true, ephemeral: true, 'http.addr': '0.0.0.0' }).dev).toBe(true)
    expect(load({ 'http.addr': '0.0.0.0' }, { CAIRN_PROFILE: 'test' }).profile).toBe('test')
  })

  it('the testing_ namespace is off in prod unless rpc.testing says so, on in dev and test', () => {
    expect(servesTestingNamespace(load({}))).toBe(false)
    expect(servesTestingNamespace(load({ 'rpc.testing': true }))).toBe(true)
    expect(servesTestingNamespace(load({ profile: 'test' }))).toBe(true)
    expect(servesTestingNamespace(load({ dev: true, ephemeral: true }))).toBe(true)
    expect(servesTestingNamespace(load({ profile: 'test', 'rpc.testing': false }))).toBe(false)
  })
})
