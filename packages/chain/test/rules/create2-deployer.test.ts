import { keccak256 } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { concatBytes, hexToBytes, silentLogger } from '@cairn/utils'
import { createAddressFromString } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { Chain, devGenesis } from '../../src/index.ts'
import { CREATE2_DEPLOYER } from '../../src/rules/create2-deployer.ts'
import { ADDRS, buildAndImport, call, KEYS, openChain, testEngine } from '../helpers.ts'

// Init code returning the runtime code 0x602a60005260206000f3 (returns 42): PUSH10 code, PUSH1 0,
// MSTORE, PUSH1 10, PUSH1 22, RETURN.
const RUNTIME = hexToBytes('0x602a60005260206000f3')
const INIT = concatBytes(hexToBytes('0x69'), RUNTIME, hexToBytes('0x600052600a6016f3'))

/** EIP-1014: keccak256(0xff ++ deployer ++ salt ++ keccak256(init code))[12:]. */
function create2Address(deployer: string, salt: Uint8Array, init: Uint8Array): string {
  const hash = keccak256(concatBytes(hexToBytes('0xff'), hexToBytes(deployer as `0x${string}`), salt, keccak256(init)))
  return `0x${Buffer.from(hash.subarray(12)).toString('hex')}`
}

describe('the CREATE2 deployer in the dev genesis', () => {
  it("is predeployed at 0x4e59…956C with Anvil's code, and deploys with a salt at the EIP-1014 address", async () => {
    const chain = await openChain()
    const state = chain.stateAt(chain.head.header.stateRoot)
    const deployer = createAddressFromString(CREATE2_DEPLOYER.address)
    expect(Buffer.from(await state.getCode(deployer)).toString('hex')).toBe(CREATE2_DEPLOYER.code.slice(2))
    expect((await state.getAccount(deployer))?.nonce).toBe(0n)

    const salt = new Uint8Array(32).fill(7)
    const tx = call(
      chain.common,
      KEYS[0] as Uint8Array,
      0n,
      CREATE2_DEPLOYER.address,
      concatBytes(salt, INIT),
      200_000n,
    )
    const { receipts, result } = await buildAndImport(chain, [tx])
    expect(result.status).toBe('head')
    expect((receipts[0] as { status?: number }).status).toBe(1)
    const expected = create2Address(CREATE2_DEPLOYER.address, salt, INIT)
    const after = chain.stateAt(chain.head.header.stateRoot)
    expect(Buffer.from(await after.getCode(createAddressFromString(expected))).toString('hex')).toBe(
      Buffer.from(RUNTIME).toString('hex'),
    )
    // The same salt again: the address is taken, CREATE2 fails and the proxy reverts.
    const again = call(
      chain.common,
      KEYS[0] as Uint8Array,
      1n,
      CREATE2_DEPLOYER.address,
      concatBytes(salt, INIT),
      200_000n,
    )
    const second = await buildAndImport(chain, [again])
    expect((second.receipts[0] as { status?: number }).status).toBe(0)
  })

  it('a datadir created by the dev genesis before the deployer keeps its stored genesis when opened with today’s', async () => {
    const kv = new MemoryKV()
    await kv.open()
    const today = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, unknown> }
    const before = { ...today, alloc: { ...today.alloc } }
    delete before.alloc[CREATE2_DEPLOYER.address]
    const old = await Chain.open({ genesis: before }, { kv, engine: testEngine, logger: silentLogger, metrics: null })
    const hash = old.head.hash()
    const reopened = await Chain.open(
      { genesis: today },
      { kv, engine: testEngine, logger: silentLogger, metrics: null },
    )
    expect(Buffer.from(reopened.head.hash()).equals(Buffer.from(hash))).toBe(true)
  })
})
