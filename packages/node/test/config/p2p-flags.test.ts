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
