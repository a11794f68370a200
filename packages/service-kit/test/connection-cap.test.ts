// The connection cap's arithmetic without sockets: the address a connection is counted under, and
// one address's cap in force against the port's limit (the sockets are test/rpc's accept-limits).
import { describe, expect, it } from 'vitest'
import { addressKey, ConnectionCap, IP_SHARE } from '../src/edge/connection-cap.ts'

describe('addressKey', () => {
  it('an IPv4 address is itself, on a dual-stack socket too', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7')
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7')
  })

  it('an IPv6 address counts as its /64, however it is spelled', () => {
    const key = '2001:db8:0:1::/64'
    expect(addressKey('2001:db8:0:1::1')).toBe(key)
    expect(addressKey('2001:0db8:0000:0001:ffff:1:2:3')).toBe(key)
    expect(addressKey('2001:DB8:0:1:aaaa::')).toBe(key)
    expect(addressKey('2001:db8:0:2::1')).not.toBe(key)
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
  })
})

describe('one address’s cap', () => {
  const cap = (perIp: number, total: number) => new ConnectionCap({ perIp, total, firstByteMs: 0 }).limit
  it(`is its own cap, and never more than 1/${IP_SHARE} of the port's limit`, () => {
    expect(cap(512, 0)).toBe(512)
    expect(cap(0, 0)).toBe(0)
    expect(cap(512, 10_000)).toBe(512)
    expect(cap(512, 1000)).toBe(250)
    expect(cap(0, 1000)).toBe(250)
    expect(cap(50, 200)).toBe(50)
    expect(cap(50, 2)).toBe(1)
  })
})
