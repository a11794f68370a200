// A small chain in a real LevelDB for the durability tests: transfers, a contract deployment
// (storage + code) and calls emitting logs, over a few blocks.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelKV } from '@cairn/db'
import { hexToBytes } from '@cairn/utils'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { ADDRS, buildAndImport, KEYS, openChain, transfer } from '../../../chain/test/helpers.ts'
import { COUNTER_INIT_CODE } from '../crash/load.ts'

export const COUNTER_ADDRESS = '0x5fbdb2315678afecb367f032d93f642f64180aa3' // deployed by ADDRS[0] at nonce 0

/** Creates DIR/chaindata with 6 blocks; returns the dir (closed). */
export async function buildFixtureChain(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-durability-'))
  const kv = new LevelKV({ path: join(dir, 'chaindata') })
  const chain = await openChain(kv)
  const k0 = KEYS[0] as Uint8Array
  const k1 = KEYS[1] as Uint8Array
  const deploy = createFeeMarket1559Tx(
    {
      nonce: 0n,
      gasLimit: 200_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 9n,
      data: hexToBytes(COUNTER_INIT_CODE),
    },
    { common: chain.common },
  ).sign(k0)
  await buildAndImport(chain, [deploy, transfer(chain.common, k1, 0n, ADDRS[2] as `0x${string}`, 1000n)])
  for (let i = 1; i <= 5; i++) {
    await buildAndImport(chain, [
      transfer(chain.common, k0, BigInt(i), COUNTER_ADDRESS, 0n, { gasLimit: 100_000n }),
      transfer(chain.common, k1, BigInt(i), ADDRS[2] as `0x${string}`, BigInt(i)),
    ])
  }
  await kv.close()
  return dir
}
