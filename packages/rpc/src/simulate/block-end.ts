import { CONSOLIDATION_QUEUE, type RawLog, type SystemContract, WITHDRAWAL_QUEUE } from '@cairn/chain'
import { keccak256, sha256 } from '@cairn/crypto'
import { bytesToHex, equalsBytes, hexToBytes } from '@cairn/utils'
import { genRequestsRoot } from '@ethereumjs/block'
import { ConsensusType, Mainnet } from '@ethereumjs/common'
import {
  Account,
  Address,
  bigIntToAddressBytes,
  CLRequest,
  CLRequestType,
  concatBytes,
  setLengthLeft,
} from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { RpcErrorCode } from '../errors.ts'
import { simError } from './errors.ts'

/** A withdrawal of a simulated block (its amount in gwei). */
export interface SimWithdrawal {
  index: bigint
  validatorIndex: bigint
  address: Uint8Array
  amount: bigint
}

const GWEI = 1_000_000_000n
const DEPOSIT_TOPIC = hexToBytes('0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5')
/** EIP-6110's DepositEvent data: five ABI-encoded byte strings, [offset of the value, length]. */
const DEPOSIT_FIELDS: [offset: number, length: number][] = [
  [160, 48],
  [256, 32],
  [320, 8],
  [384, 96],
  [512, 8],
]

/**
 * What a block does after its transactions, as geth's simulation does it (core.PostExecution,
 * then the engine's Finalize): the EIP-7685 requests (deposits from the block's logs, the
 * EIP-7002 and EIP-7251 system calls), the block reward before the merge (no uncles), and the
 * withdrawals credited. Returns the requests hash when the block has one.
 */
export async function finishBlock(
  vm: VM,
  opts: { coinbase: Address; logs: RawLog[]; withdrawals: SimWithdrawal[]; gasLimit: bigint },
): Promise<Uint8Array | undefined> {
  const common = vm.common
  let requestsHash: Uint8Array | undefined
  if (common.isActivatedEIP(7685)) {
    const requests: CLRequest<CLRequestType>[] = []
    if (common.isActivatedEIP(6110)) requests.push(new CLRequest(CLRequestType.Deposit, deposits(vm, opts.logs)))
    if (common.isActivatedEIP(7002)) {
      const to = common.param('withdrawalRequestPredeployAddress')
      requests.push(new CLRequest(CLRequestType.Withdrawal, await systemCall(vm, to, WITHDRAWAL_QUEUE)))
    }
    if (common.isActivatedEIP(7251)) {
      const to = common.param('consolidationRequestPredeployAddress')
      requests.push(new CLRequest(CLRequestType.Consolidation, await systemCall(vm, to, CONSOLIDATION_QUEUE)))
    }
    requestsHash = genRequestsRoot(requests, common.customCrypto.sha256 ?? sha256)
    // As geth finalises after a system call: touched empty accounts go, nothing stays warm.
    await vm.evm.journal.cleanup()
  }
  if (common.consensusType() === ConsensusType.ProofOfWork) {
    await credit(vm, opts.coinbase, common.param('minerReward'))
  }
  for (const w of opts.withdrawals) {
    if (w.amount > 0n) await credit(vm, new Address(w.address), w.amount * GWEI)
  }
  return requestsHash
}

/** The deposit requests of the block's logs (EIP-6110), at the chain's deposit contract. */
function deposits(vm: VM, logs: RawLog[]): Uint8Array {
  const configured = (vm.common as unknown as { _chainParams: { depositContractAddress?: string } })._chainParams
  const contract = hexToBytes((configured.depositContractAddress ?? Mainnet.depositContractAddress) as `0x${string}`)
  const parts: Uint8Array[] = []
  for (const [address, topics, data] of logs) {
    if (!equalsBytes(address, contract) || !topics[0] || !equalsBytes(topics[0], DEPOSIT_TOPIC)) continue
    if (data.length !== 576) throw badDeposit()
    DEPOSIT_FIELDS.forEach(([offset, length], i) => {
      if (word(data, i * 32) !== BigInt(offset) || word(data, offset) !== BigInt(length)) throw badDeposit()
    })
    for (const [offset, length] of DEPOSIT_FIELDS) parts.push(data.subarray(offset + 32, offset + 32 + length))
  }
  return concatBytes(...parts)
}

function word(data: Uint8Array, at: number): bigint {
  return BigInt(bytesToHex(data.subarray(at, at + 32)))
}

function badDeposit() {
  return simError(RpcErrorCode.EXECUTION_FAILED, 'unable to parse deposit data: invalid deposit log layout')
}

/** keccak256 of each canonical request contract's code. */
const canonicalCodeHash = new Map<SystemContract, Uint8Array>()

/**
 * A request contract's system call (EIP-7002/7251): from the system address with 30M gas; the
 * system address is left as it was. A contract without code answers no requests. The canonical
 * contract with nothing queued and no excess (the usual case) is not run: its system call then
 * stores zeros where zeros are and returns nothing, so skipping it changes neither the state nor
 * the requests (it was two fifths of a simulated block's time).
 */
async function systemCall(vm: VM, contract: bigint, canonical: SystemContract): Promise<Uint8Array> {
  const sm = vm.stateManager
  const to = new Address(bigIntToAddressBytes(contract))
  const account = await sm.getAccount(to)
  if (account === undefined) return new Uint8Array()
  let codeHash = canonicalCodeHash.get(canonical)
  if (!codeHash) {
    codeHash = keccak256(hexToBytes(canonical.code))
    canonicalCodeHash.set(canonical, codeHash)
  }
  if (equalsBytes(account.codeHash, codeHash) && (await queueIsEmpty(vm, to))) return new Uint8Array()
  const system = new Address(bigIntToAddressBytes(vm.common.param('systemAddress')))
  const before = await sm.getAccount(system)
  const result = await vm.evm.runCall({ caller: system, gasLimit: vm.common.param('systemCallGasLimit'), to })
  if (before === undefined) await sm.deleteAccount(system)
  else await sm.putAccount(system, before)
  return result.execResult.returnValue
}

/** The request contract's excess, count, queue head and tail (slots 0-3) are all zero. */
async function queueIsEmpty(vm: VM, contract: Address): Promise<boolean> {
  for (let slot = 0; slot < 4; slot++) {
    const value = await vm.stateManager.getStorage(contract, setLengthLeft(Uint8Array.of(slot), 32))
    if (value.some((b) => b !== 0)) return false
  }
  return true
}

async function credit(vm: VM, address: Address, amount: bigint): Promise<void> {
  const account = (await vm.stateManager.getAccount(address)) ?? new Account()
  account.balance += amount
  await vm.stateManager.putAccount(address, account)
}
