// `rpc.api` (`--rpc.api`, geth's --http.api): a production node serves eth, net, web3 and cairn
// unless told otherwise, a dev chain everything a test suite calls (as Anvil); an unknown namespace
// is a start error naming the known ones; the banner says what is served. A real non-dev node
// started with the defaults answers admin_addPeer / admin_removePeer / debug_ / txpool_ as methods
// that do not exist.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devGenesis } from '@cairn/chain'
import { silentLogger } from '@cairn/utils'
import { Command } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import { banner } from '../../src/cli/banner.ts'
import { addNodeOptions, nodeConfigInputs } from '../../src/cli/node-options.ts'
import { loadConfig } from '../../src/config/load.ts'
import { effectiveNamespaces } from '../../src/config/profile.ts'
import { type StartedNode, startNode } from '../../src/node.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-rpc-api-'))
let node: StartedNode | undefined
afterAll(async () => {
  await node?.close()
  rmSync(dir, { recursive: true, force: true })
})

function configFrom(argv: string[], env: Record<string, string> = {}) {
  const cmd = addNodeOptions(new Command('start').exitOverride())
  cmd.parse(argv, { from: 'user' })
  return loadConfig(nodeConfigInputs(cmd.opts(), env))
}

const ALL =
  'eth, net, web3, cairn, txpool, debug, trace, ots, erigon, admin, personal, testing, evm, anvil, hardhat, tenderly'

describe('rpc.api', () => {
  it('unset: eth, net, web3, cairn in production; every namespace on a dev chain; testing where served', () => {
    expect(effectiveNamespaces(configFrom([]))).toEqual(['eth', 'net', 'web3', 'cairn'])
    expect(effectiveNamespaces(configFrom(['--dev', '--ephemeral'])).join(', ')).toBe(ALL)
    expect(effectiveNamespaces(configFrom(['--profile', 'test']))).toEqual(['eth', 'net', 'web3', 'cairn', 'testing'])
    expect(effectiveNamespaces(configFrom(['--rpc.testing']))).toEqual(['eth', 'net', 'web3', 'cairn', 'testing'])
  })

  it('set by flag, environment or file: exactly those, even on a dev chain', () => {
    expect(effectiveNamespaces(configFrom(['--rpc.api', 'eth,net, web3,txpool']))).toEqual([
      'eth',
      'net',
      'web3',
      'txpool',
    ])
    expect(effectiveNamespaces(configFrom(['--dev', '--ephemeral', '--rpc.api', 'eth,evm']))).toEqual(['eth', 'evm'])
    expect(effectiveNamespaces(configFrom([], { CAIRN_RPC_API: 'eth,admin' }))).toEqual(['eth', 'admin'])
    const file = join(dir, 'api.toml')
    writeFileSync(file, '[rpc]\napi = ["eth", "debug"]\n')
    expect(effectiveNamespaces(loadConfig({ flags: {}, env: {}, file }))).toEqual(['eth', 'debug'])
  })

  it('an unknown namespace is a start error naming it, where it came from and the known ones', () => {
    expect(() => configFrom(['--rpc.api', 'eth,net,miner'])).toThrow(
      `config "rpc.api" (flag --rpc.api): bad value "eth,net,miner": unknown namespace "miner" (known: ${ALL})`,
    )
    expect(() => configFrom([], { CAIRN_RPC_API: 'eth,Admin' })).toThrow(/environment CAIRN_RPC_API.*"Admin"/)
    expect(() => configFrom(['--rpc.api', 'net,web3'])).toThrow(/rpc\.api.*must include eth/)
  })

  it('a default production node answers admin_, debug_ and txpool_ -32601; the banner names what it serves', async () => {
    const genesis = join(dir, 'genesis.json')
    writeFileSync(genesis, JSON.stringify(devGenesis({ chainId: 1337n, accounts: [], timestamp: 0n })))
    const config = configFrom([
      '--genesis',
      genesis,
      '--datadir',
      join(dir, 'data'),
      '--http.port',
      '0',
      '--p2p.enabled',
      'false',
      '--rpc.threads',
      '0',
    ])
    expect(config.dev).toBe(false)
    node = await startNode(config, { logger: silentLogger })
    const ask = async (method: string, params: unknown[] = []) => {
      const res = await fetch(node?.url ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      })
      return (await res.json()) as { result?: unknown; error?: { code: number; message: string } }
    }
    for (const [m, params] of [
      ['admin_addPeer', ['/ip4/127.0.0.1/tcp/30303']],
      ['admin_removePeer', ['/ip4/127.0.0.1/tcp/30303']],
      ['admin_nodeInfo', []],
      ['debug_getRawHeader', ['0x0']],
      ['txpool_content', []],
      ['evm_mine', []],
    ] as const) {
      expect((await ask(m, [...params])).error, m).toEqual({
        code: -32601,
        message: `the method ${m} does not exist/is not available`,
      })
    }
    expect((await ask('eth_chainId')).result).toBe('0x539')
    expect((await ask('net_version')).result).toBe('1337')
    const text = banner(node, {
      mnemonic: '',
      balanceEth: '0',
      version: 'test',
      namespaces: effectiveNamespaces(config),
    })
    expect(text).toContain('RPC namespaces:    eth, net, web3, cairn (--rpc.api to change)')
  })
})
