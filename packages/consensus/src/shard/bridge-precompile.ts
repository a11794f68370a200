/**
 * The bridge inside the chain: a stateful precompile at {@link BRIDGE_ADDRESS} on every shard that
 * runs `bridge.ts` over its own account's storage (`bridge-storage.ts`), so a transaction sends a
 * cross-shard transfer and a relayed proof delivers it, exactly once and in order, with the same
 * code the simulator checks. Installed in every VM a shard's chain makes (`ChainModules.extendVM`:
 * blocks, eth_call, gas estimates) by {@link bridgeExtension}.
 *
 *   send(dest, receiver, timeout, data)  payable: the call's value leaves this shard (burnt from the
 *                                        bridge's account), a commitment and `MessageSent` are written
 *   updateClient(shard, header, cert)    the next header of another shard, verified by its certificate
 *   receiveMessage(message, height, …)   a message proven under a verified header: credited (minted)
 *                                        to its receiver, or expired; `MessageReceived`
 *   settle(message, status, ack, …)      its receipt proven on the destination: ends it, or refunds
 *                                        (mints back) its sender; `MessageSettled`
 *
 * Value is burnt on the source and minted on the destination, so the supply over all shards plus
 * the value in flight is constant. A refused call reverts with `ShardError(code, message)`
 * (`CONSENSUS_SHARD_*`) and writes nothing. Anyone may call every function: nothing is trusted of
 * the caller but the value it sends.
 *
 * A precompile is not told its caller or value; the EVM announces every message it runs
 * (`beforeMessage`) just before running it, so the extension keeps the last one per VM.
 * A message with `data` runs its receive hook on the destination: a call from the bridge to the
 * receiver with that data ({@link runHook}); a revert (or an acknowledgement above 1 KiB) makes it
 * *failed*: nothing credited, refunded on the source. A hook may send, not receive or settle.
 * A settlement calls the message's sender, if it is a contract, with `onAcknowledgement(destShard,
 * sequence, status, ack)` (`acknowledgementAbi`) after the settlement (and any refund) is written;
 * its revert or running out of its `ACK_HOOK_GAS` is caught and undoes only its own changes
 * (`AcknowledgementCalled(hash, sender, ok)`): the channel is never held by a sender. Each hook is
 * given its whole allowance or the bridge call runs out of gas, so a relayer cannot starve one.
 */
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, CairnError, type Hex, isCairnError } from '@cairn/utils'
import type { EVM, ExecResult, PrecompileInput } from '@ethereumjs/evm'
import { EVMError } from '@ethereumjs/evm'
import { Account, Address, hexToBytes } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import {
  decodeFunctionData,
  encodeAbiParameters,
  encodeErrorResult,
  encodeEventTopics,
  encodeFunctionData,
  encodeFunctionResult,
} from 'viem'
import { decodeCertificate } from '../bft/certificate.ts'
import { type BridgeState, receiveMessage, sendMessage, settleMessage, type VerifiedRoots } from './bridge.ts'
import { acknowledgementAbi, bridgeAbi } from './bridge-abi.ts'
import {
  BRIDGE_ADDRESS,
  blobWords,
  clientSlot,
  decodeClientState,
  encodeClientState,
  ROOT_WINDOW,
  receivedSlot,
  rootSlot,
  sentSlot,
  slotPlus,
  word,
  wordValue,
} from './bridge-storage.ts'
import { ShardErrorCode } from './errors.ts'
import { verifyNextHeader } from './light-client.ts'
import {
  type CrossShardMessage,
  commitmentSlot,
  decodeMessage,
  encodeMessage as encodeMessageOf,
  messageHash,
  type ReceiptStatus,
  receiptSlot,
} from './message.ts'

/** Gas of each function (a fixed price: the work is bounded by the checks' own limits). */
export const BRIDGE_GAS = {
  send: 40_000n,
  updateClient: 40_000n,
  perSignature: 6_000n,
  receive: 60_000n,
  settle: 50_000n,
  perProofNode: 800n,
  view: 2_600n,
} as const

const BRIDGE = new Address(hexToBytes(BRIDGE_ADDRESS))

interface CallFrame {
  caller: Address
  to?: Address
  value: bigint
  isStatic: boolean
  depth: number
}

/** The most gas a receive hook's call may use. */
export const HOOK_GAS = 1_000_000n
/**
 * The gas a settlement gives its sender's `onAcknowledgement` (a contract sender only). A settle
 * call that has less left when the callback is due runs out of gas as a whole (nothing settled:
 * the relayer retries with more), so a relayer cannot make a callback fail by starving it.
 */
export const ACK_HOOK_GAS = 500_000n
/** The longest acknowledgement a receive hook may return (longer: the hook failed). */
export const MAX_ACK_BYTES = 1024

/** What the bridge of a shard needs to know about the chain it runs in. */
export interface BridgeOptions {
  /** This shard's index (the genesis's `config.cairn.shard.index`). */
  shard: number
  /** The shard count (messages to other indices are refused). */
  count: number
}

/** Told of each message the bridge decides (metrics, the status index). */
export type BridgeEvent =
  | { kind: 'sent'; message: CrossShardMessage }
  | { kind: 'received'; message: CrossShardMessage; status: ReceiptStatus }
  | { kind: 'settled'; message: CrossShardMessage; refunded: boolean }

class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** The bridge's storage and the balances it moves, read before and written after a call. */
class ChainBridgeState implements BridgeState {
  readonly bridgeAddress = BRIDGE.bytes
  readonly #words = new Map<string, Uint8Array | undefined>()
  readonly #writes = new Map<string, Uint8Array | undefined>()
  readonly #credits: [Uint8Array, bigint][] = []
  /** The call's value, what `send` may debit from its sender. */
  #held: bigint

  constructor(
    readonly shard: number,
    readonly evm: EVM,
    held: bigint,
  ) {
    this.#held = held
  }

  async preload(...slots: Uint8Array[]): Promise<void> {
    for (const s of slots) {
      const k = bytesToHex(s)
      if (this.#words.has(k)) continue
      const v = await this.evm.stateManager.getStorage(BRIDGE, s)
      this.#words.set(k, v.length === 0 || v.every((b) => b === 0) ? undefined : pad(v))
    }
  }

  height(): bigint {
    const block = (this.evm as unknown as { _block?: { header: { number: bigint } } })._block
    return block?.header.number ?? 0n
  }
  balanceOf(_address: Uint8Array): bigint {
    return this.#held
  }
  credit(address: Uint8Array, value: bigint): void {
    this.#credits.push([address, value])
  }
  debit(_address: Uint8Array, value: bigint): void {
    // Only `send` debits, and only the value its call brought: burnt from the bridge's account.
    this.#held -= value
    this.#credits.push([BRIDGE.bytes, -value])
  }
  load(slot: Uint8Array): Uint8Array | undefined {
    const k = bytesToHex(slot)
    if (!this.#words.has(k))
      throw new CairnError(ShardErrorCode.BAD_CALL, `bridge slot ${k} read without being loaded`, {
        fault: 'internal',
      })
    return this.#words.get(k)
  }
  store(slot: Uint8Array, value: Uint8Array | undefined): void {
    const k = bytesToHex(slot)
    this.#words.set(k, value)
    this.#writes.set(k, value)
  }
  sent(dest: number): bigint {
    return wordValue(this.load(sentSlot(dest)))
  }
  setSent(dest: number, seq: bigint): void {
    this.store(sentSlot(dest), word(seq))
  }
  received(source: number): bigint {
    return wordValue(this.load(receivedSlot(source)))
  }
  setReceived(source: number, seq: bigint): void {
    this.store(receivedSlot(source), word(seq))
  }

  /** Writes what the call decided: storage words, then balances. */
  async flush(): Promise<void> {
    // The account keeps nonce ≥ 1, so it is never "empty" (EIP-161 would delete it and its storage);
    // a genesis that placed it (bridgeGenesisAlloc) already gave it nonce 1.
    const own = (await this.evm.stateManager.getAccount(BRIDGE)) ?? new Account()
    if (own.nonce === 0n) {
      own.nonce = 1n
      await this.evm.journal.putAccount(BRIDGE, own)
    }
    for (const [k, v] of this.#writes)
      await this.evm.stateManager.putStorage(BRIDGE, hexToBytes(k as Hex), v ?? new Uint8Array())
    for (const [address, delta] of this.#credits) {
      const a = new Address(address)
      const account = (await this.evm.stateManager.getAccount(a)) ?? new Account()
      account.balance += delta
      await this.evm.journal.putAccount(a, account)
    }
  }
}

function pad(v: Uint8Array): Uint8Array {
  const out = new Uint8Array(32)
  out.set(v, 32 - v.length)
  return out
}

/** The light client roots of `shard` as the bridge's storage holds them. */
function storedRoots(state: ChainBridgeState, shard: number): VerifiedRoots {
  return {
    shard,
    async at(height: number) {
      const slot = rootSlot(shard, height)
      await state.preload(slot)
      const root = state.load(slot)
      const client = await readClient(state, shard)
      if (
        root === undefined ||
        client === undefined ||
        height > client.height ||
        height <= client.height - ROOT_WINDOW
      ) {
        throw new CairnError(
          ShardErrorCode.UNKNOWN_HEIGHT,
          `shard ${shard} height ${height} is not a verified header here (verified up to ${client?.height ?? 0}, the last ${ROOT_WINDOW} kept)`,
          { fault: 'peer' },
        )
      }
      return { height, hash: new Uint8Array(32), stateRoot: root }
    },
  }
}

async function readClient(state: ChainBridgeState, shard: number) {
  const base = clientSlot(shard)
  await state.preload(base)
  const length = Number(wordValue(state.load(base)))
  if (length === 0) return undefined
  const words = Math.ceil(length / 32)
  const slots = Array.from({ length: words }, (_, i) => slotPlus(base, i + 1))
  await state.preload(...slots)
  const bytes = Buffer.concat(slots.map((s) => state.load(s) ?? new Uint8Array(32))).subarray(0, length)
  return decodeClientState(bytes)
}

function bytesOf(hex: Hex): Uint8Array {
  return hexToBytes(hex)
}

function log(event: string, args: Record<string, unknown>, data: readonly unknown[], types: { type: string }[]) {
  const topics = encodeEventTopics({ abi: bridgeAbi, eventName: event as never, args: args as never }).map((t) =>
    hexToBytes(t as Hex),
  )
  return [BRIDGE.bytes, topics, hexToBytes(encodeAbiParameters(types, data))] as [Uint8Array, Uint8Array[], Uint8Array]
}

/**
 * The precompile of shard `opts.shard`, and the listener that tells it each call's frame: install
 * both in a VM with {@link bridgeExtension}.
 */
export function bridgeExtension(opts: BridgeOptions, onEvent?: (e: BridgeEvent) => void): (vm: VM) => void {
  return (vm) => {
    let frame: CallFrame | undefined
    const hooks = { running: 0 }
    vm.evm.events?.on('beforeMessage', (m: CallFrame) => {
      frame = m
    })
    const run = async (input: PrecompileInput): Promise<ExecResult> => {
      const call = frame
      frame = undefined
      return runBridge(opts, input, call, hooks, onEvent)
    }
    ;(vm.evm.precompiles as Map<string, unknown>).set(BRIDGE_ADDRESS.slice(2).toLowerCase(), run)
  }
}

async function runBridge(
  opts: BridgeOptions,
  input: PrecompileInput,
  call: CallFrame | undefined,
  hooks: { running: number },
  onEvent: ((e: BridgeEvent) => void) | undefined,
): Promise<ExecResult> {
  const evm = input._EVM as EVM
  let gas = 0n
  const charge = (g: bigint) => {
    gas += g
    if (gas > input.gasLimit) throw new OutOfGas()
  }
  try {
    if (call === undefined || call.to === undefined || !call.to.equals(BRIDGE)) {
      throw new Refused(ShardErrorCode.BAD_CALL, 'the bridge is called directly (not by DELEGATECALL or CALLCODE)')
    }
    let decoded: ReturnType<typeof decodeFunctionData<typeof bridgeAbi>>
    try {
      decoded = decodeFunctionData({ abi: bridgeAbi, data: bytesToHex(input.data) })
    } catch {
      throw new Refused(ShardErrorCode.BAD_CALL, 'not a call of the bridge interface (bridgeAbi)')
    }
    const writes =
      decoded.functionName !== 'sent' && decoded.functionName !== 'received' && decoded.functionName !== 'clientHeight'
    if (writes && call.isStatic) throw new Refused(ShardErrorCode.BAD_CALL, `${decoded.functionName} in a static call`)
    // A receive hook may send (a reply) and read, but not receive, settle or update a light client:
    // the message it runs for is not recorded as received until it returns.
    if (writes && decoded.functionName !== 'send' && hooks.running > 0) {
      throw new Refused(ShardErrorCode.BAD_CALL, `${decoded.functionName} from inside a receive hook`)
    }
    if (decoded.functionName !== 'send' && call.value !== 0n) {
      throw new Refused(ShardErrorCode.BAD_CALL, `${decoded.functionName} takes no value`)
    }
    const state = new ChainBridgeState(opts.shard, evm, call.value)
    const logs: [Uint8Array, Uint8Array[], Uint8Array][] = []
    let out: Hex
    switch (decoded.functionName) {
      case 'sent':
      case 'received':
      case 'clientHeight': {
        charge(BRIDGE_GAS.view)
        const [shard] = decoded.args
        let v: bigint
        if (decoded.functionName === 'clientHeight') v = BigInt((await readClient(state, shard))?.height ?? 0)
        else {
          const slot = decoded.functionName === 'sent' ? sentSlot(shard) : receivedSlot(shard)
          await state.preload(slot)
          v = wordValue(state.load(slot))
        }
        out = encodeFunctionResult({ abi: bridgeAbi, functionName: decoded.functionName, result: v })
        break
      }
      case 'send': {
        const [destShard, receiver, timeoutHeight, data] = decoded.args
        charge(BRIDGE_GAS.send + 16n * BigInt((data.length - 2) / 2))
        if (destShard >= opts.count)
          throw new Refused(ShardErrorCode.MALFORMED_MESSAGE, `there is no shard ${destShard} (${opts.count} shards)`)
        await state.preload(sentSlot(destShard))
        const message = sendMessage(state, {
          sender: call.caller.bytes,
          destShard,
          receiver: bytesOf(receiver),
          value: call.value,
          data: bytesOf(data),
          timeoutHeight,
        })
        const hash = messageHash(message)
        logs.push(
          log(
            'MessageSent',
            { hash: bytesToHex(hash), destShard, sequence: message.sequence },
            [bytesToHex(encodeMessageOf(message))],
            [{ type: 'bytes' }],
          ),
        )
        await state.flush()
        onEvent?.({ kind: 'sent', message })
        out = encodeFunctionResult({ abi: bridgeAbi, functionName: 'send', result: message.sequence })
        break
      }
      case 'updateClient': {
        const [shard, header, certificate] = decoded.args
        const client = await readClient(state, shard)
        if (client === undefined || shard === opts.shard) {
          throw new Refused(ShardErrorCode.INVALID_PARAMS, `this bridge has no light client of shard ${shard}`)
        }
        const cert = decodeCertificate(bytesOf(certificate), client.scheme)
        charge(BRIDGE_GAS.updateClient + BRIDGE_GAS.perSignature * BigInt(cert.signatures.length))
        const { verified, state: next } = verifyNextHeader(client, bytesOf(header), cert)
        const base = clientSlot(shard)
        for (const [k, v] of blobWords(base, encodeClientState(next))) state.store(k, v)
        state.store(rootSlot(shard, verified.height), verified.stateRoot)
        if (verified.height > ROOT_WINDOW) state.store(rootSlot(shard, verified.height - ROOT_WINDOW), undefined)
        logs.push(
          log(
            'ClientUpdated',
            { shard },
            [BigInt(verified.height), bytesToHex(verified.hash), bytesToHex(verified.stateRoot)],
            [{ type: 'uint64' }, { type: 'bytes32' }, { type: 'bytes32' }],
          ),
        )
        await state.flush()
        out = encodeFunctionResult({ abi: bridgeAbi, functionName: 'updateClient', result: BigInt(verified.height) })
        break
      }
      case 'receiveMessage': {
        const [bytes, height, accountProof, storageProof] = decoded.args
        charge(BRIDGE_GAS.receive + BRIDGE_GAS.perProofNode * BigInt(accountProof.length + storageProof.length))
        const message = decodeMessage(bytesOf(bytes))
        const hookLogs: [Uint8Array, Uint8Array[], Uint8Array][] = []
        await state.preload(receivedSlot(message.sourceShard), receiptSlot(message.sourceShard, message.sequence))
        const decision = await receiveMessage(
          state,
          message,
          {
            height: Number(height),
            proof: { accountProof: accountProof.map(bytesOf), storageProof: storageProof.map(bytesOf) },
          },
          storedRoots(state, message.sourceShard),
          async (m) => {
            if (m.data.length === 0) return { ok: true }
            // The whole allowance or nothing: a relayer that gives less cannot make the hook fail.
            if (input.gasLimit - gas < HOOK_GAS) throw new OutOfGas()
            hooks.running++
            try {
              const r = await runHook(evm, m.receiver, m.data, HOOK_GAS, call.depth + 1)
              charge(r.gasUsed)
              hookLogs.push(...r.logs)
              return r.ok ? { ok: true, ack: r.ack } : { ok: false }
            } finally {
              hooks.running--
            }
          },
        )
        logs.push(
          ...hookLogs,
          log(
            'MessageReceived',
            { hash: bytesToHex(messageHash(message)), sourceShard: message.sourceShard, sequence: message.sequence },
            [decision.status, bytesToHex(decision.ack)],
            [{ type: 'uint8' }, { type: 'bytes' }],
          ),
        )
        await state.flush()
        onEvent?.({ kind: 'received', message, status: decision.status })
        out = encodeFunctionResult({ abi: bridgeAbi, functionName: 'receiveMessage', result: decision.status })
        break
      }
      case 'settle': {
        const [bytes, status, ack, height, accountProof, storageProof] = decoded.args
        charge(BRIDGE_GAS.settle + BRIDGE_GAS.perProofNode * BigInt(accountProof.length + storageProof.length))
        const message = decodeMessage(bytesOf(bytes))
        await state.preload(commitmentSlot(message.destShard, message.sequence))
        const result = await settleMessage(
          state,
          message,
          { status: status as ReceiptStatus, ack: bytesOf(ack) },
          {
            height: Number(height),
            proof: { accountProof: accountProof.map(bytesOf), storageProof: storageProof.map(bytesOf) },
          },
          storedRoots(state, message.destShard),
        )
        const refunded = result === 'refunded'
        const hash = bytesToHex(messageHash(message))
        logs.push(
          log(
            'MessageSettled',
            { hash, destShard: message.destShard, sequence: message.sequence },
            [refunded],
            [{ type: 'bool' }],
          ),
        )
        await state.flush()
        const sender = new Address(message.sender)
        const code = await evm.stateManager.getCode(sender)
        if (code.length > 0) {
          if (input.gasLimit - gas < ACK_HOOK_GAS) throw new OutOfGas()
          hooks.running++
          try {
            const r = await runHook(
              evm,
              message.sender,
              hexToBytes(
                encodeFunctionData({
                  abi: acknowledgementAbi,
                  functionName: 'onAcknowledgement',
                  args: [message.destShard, message.sequence, status, ack],
                }),
              ),
              ACK_HOOK_GAS,
              call.depth + 1,
              Number.POSITIVE_INFINITY,
            )
            charge(r.gasUsed)
            logs.push(
              ...r.logs,
              log('AcknowledgementCalled', { hash, sender: bytesToHex(message.sender) }, [r.ok], [{ type: 'bool' }]),
            )
          } finally {
            hooks.running--
          }
        }
        onEvent?.({ kind: 'settled', message, refunded })
        out = encodeFunctionResult({ abi: bridgeAbi, functionName: 'settle', result: refunded })
        break
      }
    }
    return { executionGasUsed: gas, returnValue: hexToBytes(out), logs }
  } catch (err) {
    if (err instanceof OutOfGas) {
      return {
        executionGasUsed: input.gasLimit,
        returnValue: new Uint8Array(),
        exceptionError: new EVMError(EVMError.errorMessages.OUT_OF_GAS),
      }
    }
    const [code, message] =
      err instanceof Refused
        ? [err.code, err.message]
        : isCairnError(err)
          ? [String(err.code), err.message]
          : [ShardErrorCode.BAD_CALL, (err as Error).message]
    return {
      executionGasUsed: gas > input.gasLimit ? input.gasLimit : gas,
      returnValue: hexToBytes(encodeErrorResult({ abi: bridgeAbi, errorName: 'ShardError', args: [code, message] })),
      exceptionError: new EVMError(EVMError.errorMessages.REVERT),
    }
  }
}

class OutOfGas extends Error {}

/**
 * A hook: a call from the bridge to `to` with `data` and no value, its revert caught (its changes
 * undone by the call's own checkpoint). A message's receive hook (the message's data to its
 * receiver; the value is credited when it returns) or its sender's acknowledgement callback. The
 * same block and transaction context as the call that runs it, one frame deeper.
 */
async function runHook(
  evm: EVM,
  to: Uint8Array,
  data: Uint8Array,
  gasLimit: bigint,
  depth: number,
  maxReturn = MAX_ACK_BYTES,
): Promise<{ ok: boolean; ack: Uint8Array; gasUsed: bigint; logs: [Uint8Array, Uint8Array[], Uint8Array][] }> {
  const ctx = evm as unknown as { _block: unknown; _tx: { gasPrice: bigint; origin: Address } }
  // Its own checkpoint too: a call that returns but is refused (an acknowledgement too long) is undone.
  await evm.journal.checkpoint()
  const res = await evm.runCall({
    caller: BRIDGE,
    origin: ctx._tx.origin,
    gasPrice: ctx._tx.gasPrice,
    to: new Address(to),
    data,
    value: 0n,
    gasLimit,
    depth,
    block: ctx._block as never,
  })
  const r = res.execResult
  const ok = r.exceptionError === undefined && r.returnValue.length <= maxReturn
  if (ok) await evm.journal.commit()
  else await evm.journal.revert()
  return {
    ok,
    ack: ok ? r.returnValue : new Uint8Array(),
    gasUsed: r.executionGasUsed,
    logs: ok ? ((r.logs ?? []) as [Uint8Array, Uint8Array[], Uint8Array][]) : [],
  }
}

/** The hash a message is known by (`cairn_getCrossShardTransaction`): keccak256 of its RLP. */
export function crossShardHash(message: CrossShardMessage): Hex {
  return bytesToHex(keccak256(encodeMessageOf(message)))
}
