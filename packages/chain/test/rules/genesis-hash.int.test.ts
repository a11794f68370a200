// The genesis hash Cairn computes from a geth genesis.json is geth's: mainnet (proof-of-work,
// Frontier header, the nulls geth writes) and Holesky (London and the merge at genesis, so a base
// fee). The execution-apis chain (packages/node/test/import) is the third case. Allocations from @ethereumjs/genesis; header fields as in geth's
// core/genesis.go and the published hashes.
import { MemoryKV } from '@cairn/db'
import { bytesToHex } from '@cairn/utils'
import { getGenesis } from '@ethereumjs/genesis'
import { describe, expect, it } from 'vitest'
import { openChain } from '../helpers.ts'

type Alloc = Record<string, string | [string, string, [string, string][], string?]>

/** @ethereumjs/genesis's compact allocation as geth's `alloc`. */
function alloc(chainId: number): Record<string, unknown> {
  const state = getGenesis(chainId) as unknown as Alloc
  return Object.fromEntries(
    Object.entries(state).map(([addr, v]) => {
      if (typeof v === 'string') return [addr, { balance: v }]
      const [balance, code, storage, nonce] = v
      return [
        addr,
        {
          balance,
          ...(code && code !== '0x' ? { code } : {}),
          ...(storage.length > 0 ? { storage: Object.fromEntries(storage) } : {}),
          ...(nonce && nonce !== '0x' && nonce !== '0x0' ? { nonce } : {}),
        },
      ]
    }),
  )
}

const PRE_MERGE_FORKS = {
  homesteadBlock: 1150000,
  daoForkBlock: 1920000,
  daoForkSupport: true,
  eip150Block: 2463000,
  eip155Block: 2675000,
  eip158Block: 2675000,
  byzantiumBlock: 4370000,
  constantinopleBlock: 7280000,
  petersburgBlock: 7280000,
  istanbulBlock: 9069000,
  muirGlacierBlock: 9200000,
  berlinBlock: 12244000,
  londonBlock: 12965000,
  arrowGlacierBlock: 13773000,
  grayGlacierBlock: 15050000,
  terminalTotalDifficulty: '58750000000000000000000',
  shanghaiTime: 1681338455,
  cancunTime: 1710338135,
  pragueTime: 1746612311,
  osakaTime: 1764798551,
  ethash: {},
}

const cases: [string, unknown, string][] = [
  [
    'mainnet',
    {
      config: { chainId: 1, ...PRE_MERGE_FORKS },
      nonce: '0x42',
      timestamp: '0x0',
      extraData: '0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa',
      gasLimit: '0x1388',
      difficulty: '0x400000000',
      mixHash: `0x${'00'.repeat(32)}`,
      coinbase: `0x${'00'.repeat(20)}`,
      alloc: alloc(1),
      number: '0x0',
      gasUsed: '0x0',
      parentHash: `0x${'00'.repeat(32)}`,
      baseFeePerGas: null,
      excessBlobGas: null,
      blobGasUsed: null,
    },
    '0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
  ],
  [
    'holesky',
    {
      config: {
        chainId: 17000,
        homesteadBlock: 0,
        eip150Block: 0,
        eip155Block: 0,
        eip158Block: 0,
        byzantiumBlock: 0,
        constantinopleBlock: 0,
        petersburgBlock: 0,
        istanbulBlock: 0,
        berlinBlock: 0,
        londonBlock: 0,
        mergeNetsplitBlock: 0,
        terminalTotalDifficulty: 0,
        shanghaiTime: 1696000704,
        cancunTime: 1707305664,
        ethash: {},
      },
      nonce: '0x1234',
      timestamp: '0x65156994',
      extraData: '0x',
      gasLimit: '0x17d7840',
      difficulty: '0x1',
      alloc: alloc(17000),
    },
    '0xb5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4',
  ],
]

describe('genesis hash equals geth’s', () => {
  for (const [name, genesis, hash] of cases) {
    it(name, async () => {
      const chain = await openChain(new MemoryKV(), genesis)
      expect(bytesToHex(chain.genesisBlock.hash())).toBe(hash)
    })
  }
})
