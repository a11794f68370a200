// eth_config (EIP-7910) over real HTTP, and its fork id (EIP-2124/6122) against geth's mainnet vectors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { forkHash } from '@cairn/chain'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { result, type StartedNode, startDevNode } from './live-node.ts'

/** Mainnet's genesis and fork activations (blocks, then timestamps), as go-ethereum's core/forkid tests list them. */
const MAINNET_GENESIS = Buffer.from('d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3', 'hex')
const MAINNET: [activation: bigint, forkHash: string][] = [
  [1150000n, '0x97c2c34c'],
  [1920000n, '0x91d1f948'],
  [2463000n, '0x7a64da13'],
  [2675000n, '0x3edd5b10'],
  [4370000n, '0xa00bc324'],
  [7280000n, '0x668db0af'], // Constantinople and Petersburg: one step
  [9069000n, '0x879d6e30'],
  [9200000n, '0xe029e991'],
  [12244000n, '0x0eb440f6'],
  [12965000n, '0xb715077d'],
  [13773000n, '0x20c327fc'],
  [15050000n, '0xf0afd0e3'],
  [1681338455n, '0xdce96c2d'],
  [1710338135n, '0x9f3d2254'],
  [1746612311n, '0xc376cf8b'],
  [1764798551n, '0x5167e2a6'],
  [1765290071n, '0xcba2a1c0'],
  [1767747671n, '0x07c9462e'],
]

describe('forkHash', () => {
  it('is CRC32 of the genesis hash before any fork (mainnet: 0xfc64ec04)', () => {
    expect(forkHash(MAINNET_GENESIS, [])).toBe('0xfc64ec04')
    expect(forkHash(MAINNET_GENESIS, [0n])).toBe('0xfc64ec04')
  })

  it('gives every mainnet fork hash from Homestead to BPO2, a repeated activation counted once', () => {
    const seen: bigint[] = []
    for (const [at, hash] of MAINNET) {
      seen.push(at)
      if (at === 7280000n) seen.push(at) // Petersburg at Constantinople's block
      expect(forkHash(MAINNET_GENESIS, seen)).toBe(hash)
    }
  })
})

let node: StartedNode
beforeAll(async () => {
  node = await startDevNode()
})
afterAll(async () => {
  await node?.close()
})

describe('eth_config', () => {
  it("describes the dev chain's ruleset: no fork after genesis, so the fork id is the genesis hash's CRC32", async () => {
    const cfg = await result<Record<string, Record<string, unknown> | null>>(node.url, 'eth_config')
    const genesis = await result<{ hash: string }>(node.url, 'eth_getBlockByNumber', ['0x0', false])
    const chainId = await result<string>(node.url, 'eth_chainId')
    const crc = crc32(Buffer.from(genesis.hash.slice(2), 'hex'))
    expect(cfg.next).toBeNull()
    expect(cfg.last).toBeNull()
    const current = cfg.current as Record<string, unknown>
    expect(current.activationTime).toBe(0)
    expect(current.chainId).toBe(chainId)
    expect(current.forkId).toBe(`0x${crc.toString(16).padStart(8, '0')}`)
    // Osaka (the dev default) keeps Prague's blob schedule: 6 blobs targeted, 9 at most (EIP-7691).
    expect(current.blobSchedule).toEqual({ target: 6, max: 9, baseFeeUpdateFraction: 5007716 })
    const precompiles = current.precompiles as Record<string, string>
    expect(precompiles.ECREC).toBe('0x0000000000000000000000000000000000000001')
    expect(precompiles.BLS12_MAP_FP2_TO_G2).toBe('0x0000000000000000000000000000000000000011')
    // Prague's 17 and Osaka's P256VERIFY (EIP-7951) at 0x100.
    expect(precompiles.P256VERIFY).toBe('0x0000000000000000000000000000000000000100')
    expect(Object.keys(precompiles)).toHaveLength(18)
    expect(current.systemContracts).toEqual({
      BEACON_ROOTS_ADDRESS: '0x000f3df6d732807ef1319fb7b8bb8522d0beac02',
      CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS: '0x0000bbddc7ce488642fb579f8b00f3a590007251',
      DEPOSIT_CONTRACT_ADDRESS: '0x0000000000000000000000000000000000000000',
      HISTORY_STORAGE_ADDRESS: '0x0000f90827f1c53a10cb7a02335b175320002935',
      WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS: '0x00000961ef480eb55e80d19ad83579a64c007002',
    })
  })

  it('answers eth_blobBaseFee as the next block’s blob base fee (1 wei on a chain without blobs), as eth_feeHistory ends', async () => {
    expect(await result(node.url, 'eth_blobBaseFee')).toBe('0x1')
    const history = await result<{ baseFeePerBlobGas: string[] }>(node.url, 'eth_feeHistory', ['0x1', 'latest'])
    expect(history.baseFeePerBlobGas[1]).toBe('0x1')
  })
})

describe('eth_config on a chain with BPO forks', () => {
  it('gives each BPO fork its own blob schedule, not Osaka’s (rpc-compat eth_config/get-config)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-eth-config-'))
    const genesis = join(dir, 'genesis.json')
    const blob = (target: number, max: number, baseFeeUpdateFraction: number) => ({
      target,
      max,
      baseFeeUpdateFraction,
    })
    writeFileSync(
      genesis,
      JSON.stringify({
        config: {
          chainId: 1337,
          osakaTime: 0,
          bpo1Time: 0,
          bpo2Time: 4_000_000_000,
          blobSchedule: {
            cancun: blob(3, 6, 3338477),
            prague: blob(6, 9, 5007716),
            osaka: blob(6, 9, 5007716),
            bpo1: blob(10, 15, 8346193),
            bpo2: blob(14, 21, 11684671),
          },
        },
        gasLimit: '0x1c9c380',
        difficulty: '0x0',
        alloc: {},
      }),
    )
    const bpo = await startDevNode({}, { flags: { blockTime: 3600, genesis } })
    try {
      const cfg = await result<Record<string, Record<string, unknown> | null>>(bpo.url, 'eth_config')
      expect(cfg.current?.blobSchedule).toEqual(blob(10, 15, 8346193))
      expect(cfg.next?.blobSchedule).toEqual(blob(14, 21, 11684671))
      expect(cfg.next?.activationTime).toBe(4_000_000_000)
    } finally {
      await bpo.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('eth_capabilities and eth_baseFee', () => {
  it('report an archive from genesis and the head', async () => {
    const head = await result<{ number: string; hash: string }>(node.url, 'eth_getBlockByNumber', ['latest', false])
    const caps = await result<Record<string, unknown>>(node.url, 'eth_capabilities')
    const kept = { disabled: false, oldestBlock: '0x0' }
    expect(caps).toEqual({
      head: { number: head.number, hash: head.hash },
      state: kept,
      tx: kept,
      logs: kept,
      receipts: kept,
      blocks: kept,
      stateproofs: kept,
    })
  })

  it('eth_baseFee is the next block’s base fee, the one eth_feeHistory ends with', async () => {
    const history = await result<{ baseFeePerGas: string[] }>(node.url, 'eth_feeHistory', ['0x1', 'latest'])
    expect(await result(node.url, 'eth_baseFee')).toBe(history.baseFeePerGas[1])
  })
})
