// Whether a node joins the peer-to-peer network: on by default, off with --dev, `--p2p.enabled`
// turns it on, `--p2p.enabled false` off (a standalone node, or tests that start several).
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addNodeOptions, nodeConfigInputs } from '../../src/cli/node-options.ts'
import { loadConfig } from '../../src/config/load.ts'
import { p2pEnabled } from '../../src/node.ts'

function p2pFrom(argv: string[]): boolean {
  const cmd = addNodeOptions(new Command('start').exitOverride())
  cmd.parse(argv, { from: 'user' })
  return p2pEnabled(loadConfig(nodeConfigInputs(cmd.opts(), {})))
}

describe('--p2p.enabled', () => {
  it('defaults: off with --dev, on otherwise', () => {
    expect(p2pFrom(['--dev', '--ephemeral'])).toBe(false)
    expect(p2pFrom(['--datadir', '/tmp/cairn-p2p-flags-test'])).toBe(true)
  })

  it('turns it on with no value or a true one, off with false/off/0/no', () => {
    expect(p2pFrom(['--dev', '--ephemeral', '--p2p.enabled'])).toBe(true)
    expect(p2pFrom(['--dev', '--ephemeral', '--p2p.enabled', 'true'])).toBe(true)
    for (const off of ['false', 'off', '0', 'no', 'FALSE']) {
      expect(p2pFrom(['--datadir', '/tmp/cairn-p2p-flags-test', '--p2p.enabled', off]), off).toBe(false)
    }
  })
})

describe('connection limits per IP', () => {
  const p2pConfig = (argv: string[], env: Record<string, string> = {}) => {
    const cmd = addNodeOptions(new Command('start').exitOverride())
    cmd.parse(argv, { from: 'user' })
    return loadConfig(nodeConfigInputs(cmd.opts(), env)).p2p
  }

  it('defaults: 8 at a time, 5 a second, loopback exempt', () => {
    expect(p2pConfig(['--dev', '--ephemeral'])).toMatchObject({
      maxPeersPerIp: 8,
      inboundRatePerIp: 5,
      limitsExempt: ['127.0.0.0/8', '::1/128'],
    })
  })

  it('takes --p2p.max-peers-per-ip, --p2p.inbound-rate-per-ip and --p2p.limits-exempt (a comma list; empty for none)', () => {
    const args = ['--dev', '--ephemeral', '--p2p.max-peers-per-ip', '3', '--p2p.inbound-rate-per-ip', '2']
    expect(p2pConfig([...args, '--p2p.limits-exempt', '10.0.0.0/8, ::1'])).toMatchObject({
      maxPeersPerIp: 3,
      inboundRatePerIp: 2,
      limitsExempt: ['10.0.0.0/8', '::1'],
    })
    expect(p2pConfig([...args, '--p2p.limits-exempt', '']).limitsExempt).toEqual([])
    expect(p2pConfig(['--dev', '--ephemeral'], { CAIRN_P2P_LIMITS_EXEMPT: '192.168.0.0/16' }).limitsExempt).toEqual([
      '192.168.0.0/16',
    ])
  })

  it('pending handshakes per IP and the handshake timeout: 2 and 5 s by default, --p2p.max-pending-per-ip and --p2p.handshake-timeout-ms', () => {
    expect(p2pConfig(['--dev', '--ephemeral'])).toMatchObject({ maxPendingPerIp: 2, handshakeTimeoutMs: 5_000 })
    const args = ['--dev', '--ephemeral', '--p2p.max-pending-per-ip', '4', '--p2p.handshake-timeout-ms', '2500']
    expect(p2pConfig(args)).toMatchObject({ maxPendingPerIp: 4, handshakeTimeoutMs: 2_500 })
    expect(p2pConfig(['--dev', '--ephemeral'], { CAIRN_P2P_MAX_PENDING_PER_IP: '3' }).maxPendingPerIp).toBe(3)
  })

  it('refuses bad values at the edge', () => {
    for (const bad of [
      ['--p2p.max-peers-per-ip', '0'],
      ['--p2p.inbound-rate-per-ip', 'many'],
      ['--p2p.limits-exempt', '10.0.0.0/33'],
      ['--p2p.limits-exempt', 'localhost'],
      ['--p2p.max-pending-per-ip', '0'],
      ['--p2p.handshake-timeout-ms', '10'],
    ]) {
      expect(() => p2pConfig(['--dev', '--ephemeral', ...bad]), bad.join(' ')).toThrow()
    }
  })
})
