// How long a set update takes over 1,000 idle one-coin candidates (issue 66: 5–6 s epoch blocks on
// a devnet), with the staking contract of this tree and, given an older artifact, with that one:
//   node --import tsx packages/consensus/test/staking/epoch-time.ts [OLD_Staking.json]
//   (git show REV:packages/contracts/src/artifacts/Staking.json > /tmp/old.json)
// State as the node keeps it: a Merkle Patricia trie (MerkleStateManager over @cairn/chain's
// newStateManager), each update run on a fresh state manager at the committed root so every read
// is cold, as the first block after a restart or an epoch block whose slots no earlier call read.
// Not in CI: ~1,000 calls' worth of trie writes per variant.
import { readFileSync } from 'node:fs'
import { newStateManager } from '@cairn/chain'
import { GOVERNANCE_ADDRESS, governance, STAKING_ADDRESS, staking } from '@cairn/contracts'
import { privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import { Address, MapDB } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'
import { type Abi, encodeFunctionData, type Hex, keccak256, toHex } from 'viem'
import { stakingParamsWith } from '../../src/staking/params.ts'
import { systemCall } from '../../src/staking/system-call.ts'
import { validatorKey } from '../harness/bft-network.ts'

const IDLE = 1000
const ETHER = 10n ** 18n
const common = createCustomCommon({ chainId: 1337 }, Mainnet, { hardfork: Hardfork.Prague })
const at = (n: bigint) => ({ number: n, timestamp: 1000n + n, coinbase: new Uint8Array(20) })

async function measure(label: string, code: Hex, abi: Abi): Promise<void> {
  const db = new MapDB<string, string | Uint8Array>()
  let sm: MerkleStateManager = newStateManager(common, db as never, undefined)
  let vm = await createVM({ common, stateManager: sm })
  const st = hexToBytes(STAKING_ADDRESS as Hex)
  await sm.putCode(new Address(st), hexToBytes(code))
  await sm.putCode(new Address(hexToBytes(GOVERNANCE_ADDRESS as Hex)), hexToBytes(governance.deployedBytecode as Hex))
  const p = stakingParamsWith('devnet', []).staking
  const vals = [0, 1, 2, 3].map((i) => bytesToHex(privateKeyToAddress(validatorKey(i))) as Hex)
  const enc = (fn: string, args: unknown[] = []) => hexToBytes(encodeFunctionData({ abi, functionName: fn, args }))
  await systemCall(
    vm,
    at(0n),
    st,
    enc('initialize', [
      { ...p, epochLength: 1_000_000n },
      GOVERNANCE_ADDRESS,
      vals,
      vals,
      vals.map(() => 1000n * ETHER),
      vals.map(() => 1000),
    ]),
    4000n * ETHER,
  )
  const t0 = Date.now()
  for (let i = 0; i < IDLE; i++) {
    const op = new Address(hexToBytes(keccak256(toHex(`idle-${i}`)).slice(0, 42) as Hex))
    const res = await vm.evm.runCall({
      caller: op,
      origin: op,
      to: new Address(st),
      data: enc('createValidator', [keccak256(toHex(`idle-key-${i}`)).slice(0, 42), 0, 0, 0, 0n, '']),
      value: ETHER,
      gasLimit: 1n << 24n,
      skipBalance: true,
      block: {
        header: {
          number: 1n,
          timestamp: 1001n,
          coinbase: new Address(new Uint8Array(20)),
          gasLimit: 30_000_000n,
          baseFeePerGas: 0n,
          getBlobGasPrice: () => 0n,
        },
      } as never,
    })
    if (res.execResult.exceptionError) throw new Error(`createValidator ${i}: ${res.execResult.exceptionError.error}`)
  }
  let root = await sm.getStateRoot()
  process.stdout.write(`${label}: ${IDLE} idle candidates created in ${Date.now() - t0} ms\n`)
  for (let round = 1; round <= 3; round++) {
    sm = newStateManager(common, db as never, root)
    vm = await createVM({ common, stateManager: sm })
    const t = Date.now()
    const out = await systemCall(vm, at(BigInt(round) * 10n), st, enc('epochUpdate'))
    const ms = Date.now() - t
    root = await sm.getStateRoot()
    process.stdout.write(`${label}: set update ${round} over ${IDLE + 4} candidates: ${ms} ms, ${out.gasUsed} gas\n`)
  }
}

const old = process.argv[2]
if (old !== undefined) {
  const a = JSON.parse(readFileSync(old, 'utf8')) as { abi: Abi; deployedBytecode: Hex }
  await measure('before', a.deployedBytecode, a.abi)
}
await measure('after', staking.deployedBytecode as Hex, staking.abi as Abi)
