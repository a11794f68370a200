import { reservesRegistry } from '@cairn/contracts'
import { CairnError } from '@cairn/utils'
import { type Abi, BaseError, ContractFunctionRevertedError, getAddress, type Hex } from 'viem'
import { ReservesErrorCode } from '../errors.ts'
import type { ProofV1 } from '../verifier/proof.ts'
import type { ChainClients } from './chain-client.ts'
import type { AnchorPayload } from './payload.ts'

const abi = reservesRegistry.abi as Abi

/** What the registry holds for one snapshot. */
export interface RegistryRecord {
  snapshotId: string
  rootHash: Hex
  hashName: string
  currencies: string[]
  totals: string[]
  /** Unix seconds of the anchoring block. */
  timestamp: number
  publisher: string
}

/** Where and when a snapshot was anchored through the registry. */
export interface RegistryAnchor {
  chainId: number
  registry: string
  txHash: Hex
  blockNumber: number
  publisher: string
}

function anchorFailed(message: string, fault: 'caller' | 'transient' | 'internal', hint?: string, cause?: unknown) {
  return new CairnError(ReservesErrorCode.ANCHOR_FAILED, message, {
    fault,
    ...(hint ? { hint } : {}),
    ...(cause ? { cause } : {}),
  })
}

/** Turns a viem error into a CairnError a user can act on (reverts named, transport failures transient). */
function chainError(err: unknown, registry: string, what: string): CairnError {
  if (err instanceof CairnError) return err
  if (err instanceof BaseError) {
    // the signing account's own refusal (a remote signer's policy, an HSM gone) says more than viem's wrapper
    const signer = err.walk((e) => e instanceof CairnError && e.code !== ReservesErrorCode.ANCHOR_FAILED)
    if (signer instanceof CairnError) return signer
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError)
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName
      const args = (revert.data?.args ?? []).map(String)
      if (name === 'AlreadyAnchored')
        return anchorFailed(
          `snapshot ${args[0]} is already anchored in registry ${registry}; an anchored root is final`,
          'caller',
          'anchor a new snapshot id instead',
        )
      if (name === 'NotPublisher')
        return anchorFailed(
          `${args[0]} is not a publisher of registry ${registry}`,
          'caller',
          'the owner allows it with: cairn reserves registry publisher --allow ADDRESS',
        )
      if (name === 'NotOwner')
        return anchorFailed(`${args[0]} is not the owner of registry ${registry}`, 'caller', 'sign with the owner key')
      if (name === 'InvalidSnapshot') return anchorFailed(`the registry refused the snapshot: ${args[0]}`, 'caller')
      return anchorFailed(`${what} reverted: ${revert.shortMessage}`, 'caller', undefined, err)
    }
    const transient = err.walk((e) => e instanceof CairnError && e.fault === 'transient')
    return anchorFailed(`${what} failed: ${err.shortMessage}`, transient ? 'transient' : 'caller', 'check --rpc', err)
  }
  return anchorFailed(`${what} failed: ${(err as Error).message}`, 'transient', 'check --rpc', err)
}

async function requireCode(c: ChainClients, registry: Hex): Promise<void> {
  let code: Hex | undefined
  try {
    code = await c.public.getCode({ address: registry })
  } catch (err) {
    throw chainError(err, registry, 'eth_getCode')
  }
  if (!code || code === '0x')
    throw anchorFailed(
      `there is no contract at ${registry} on chain ${c.chain.id}`,
      'caller',
      'check --registry and --rpc (deploy one with: cairn reserves registry deploy)',
    )
}

/** Deploys a ReservesRegistry owned by (and publishable by) the wallet's account. */
export async function deployRegistry(c: ChainClients): Promise<RegistryAnchor & { address: string }> {
  const wallet = c.wallet
  if (!wallet)
    throw anchorFailed(
      'deploying needs a signing key',
      'caller',
      'pass --key-file, --private-key-file or the --hsm-* flags',
    )
  try {
    const txHash = await wallet.deployContract({ abi, bytecode: reservesRegistry.bytecode })
    const receipt = await c.public.waitForTransactionReceipt({ hash: txHash, timeout: 120_000 })
    if (receipt.status !== 'success' || !receipt.contractAddress)
      throw anchorFailed(`the deployment ${txHash} reverted`, 'internal')
    const address = getAddress(receipt.contractAddress)
    return {
      address,
      chainId: c.chain.id,
      registry: address,
      txHash,
      blockNumber: Number(receipt.blockNumber),
      publisher: wallet.account.address,
    }
  } catch (err) {
    throw chainError(err, '(new)', 'deploying the registry')
  }
}

/**
 * Calls a registry function from the wallet: simulated first (a revert comes back before anything
 * is sent), then sent, then its receipt awaited. `reverted` names the transaction in the error of a
 * receipt that failed anyway.
 */
async function send(
  c: ChainClients,
  wallet: NonNullable<ChainClients['wallet']>,
  registry: Hex,
  call: { functionName: string; args: readonly unknown[]; reverted: (txHash: Hex) => string },
): Promise<{ txHash: Hex; blockNumber: number }> {
  const { request } = await c.public.simulateContract({
    address: registry,
    abi,
    functionName: call.functionName,
    args: call.args,
    account: wallet.account,
  })
  const txHash = await wallet.writeContract(request)
  const receipt = await c.public.waitForTransactionReceipt({ hash: txHash, timeout: 120_000 })
  if (receipt.status !== 'success') throw anchorFailed(call.reverted(txHash), 'internal')
  return { txHash, blockNumber: Number(receipt.blockNumber) }
}

/** Allows or revokes a publisher (the wallet must be the owner). */
export async function setPublisher(c: ChainClients, registry: Hex, account: Hex, allowed: boolean): Promise<Hex> {
  const wallet = c.wallet
  if (!wallet)
    throw anchorFailed('this needs a signing key', 'caller', 'pass --key-file, --private-key-file or the --hsm-* flags')
  await requireCode(c, registry)
  try {
    const { txHash } = await send(c, wallet, registry, {
      functionName: 'setPublisher',
      args: [account, allowed],
      reverted: (tx) => `setPublisher ${tx} reverted`,
    })
    return txHash
  } catch (err) {
    throw chainError(err, registry, 'setPublisher')
  }
}

/**
 * Records a snapshot's root, hash function, currencies and totals in the registry and waits for
 * the receipt. Reverts (already anchored, not a publisher) come back as RESERVES_ANCHOR_FAILED
 * with fault `caller` before anything is sent: the call is simulated first.
 */
export async function anchorInRegistry(
  c: ChainClients,
  registry: Hex,
  payload: AnchorPayload,
): Promise<RegistryAnchor> {
  const wallet = c.wallet
  if (!wallet)
    throw anchorFailed(
      'anchoring needs a signing key',
      'caller',
      'pass --key-file, --private-key-file or the --hsm-* flags',
    )
  await requireCode(c, registry)
  try {
    const { txHash, blockNumber } = await send(c, wallet, registry, {
      functionName: 'anchor',
      args: [
        payload.snapshotId,
        payload.root.hash as Hex,
        payload.hash,
        payload.currencies.map((x) => x.symbol),
        payload.root.balances.map((b) => BigInt(b)),
      ],
      reverted: (tx) => `the anchor transaction ${tx} reverted`,
    })
    return {
      chainId: c.chain.id,
      registry: getAddress(registry),
      txHash,
      blockNumber,
      publisher: wallet.account.address,
    }
  } catch (err) {
    throw chainError(err, registry, 'anchoring')
  }
}

/** The registry's record of `snapshotId`, or null when it was never anchored there. */
export async function readRegistryRecord(
  c: ChainClients,
  registry: Hex,
  snapshotId: string,
): Promise<RegistryRecord | null> {
  await requireCode(c, registry)
  try {
    const anchored = (await c.public.readContract({
      address: registry,
      abi,
      functionName: 'isAnchored',
      args: [snapshotId],
    })) as boolean
    if (!anchored) return null
    const s = (await c.public.readContract({
      address: registry,
      abi,
      functionName: 'getSnapshot',
      args: [snapshotId],
    })) as {
      rootHash: Hex
      hashName: string
      currencies: readonly string[]
      totals: readonly bigint[]
      timestamp: bigint
      publisher: string
    }
    return {
      snapshotId,
      rootHash: s.rootHash,
      hashName: s.hashName,
      currencies: [...s.currencies],
      totals: s.totals.map(String),
      timestamp: Number(s.timestamp),
      publisher: s.publisher,
    }
  } catch (err) {
    throw chainError(err, registry, 'reading the registry')
  }
}

/** The outcome of comparing a proof with a registry record. */
export type RegistryCheck = { ok: true } | { ok: false; reason: string }

/** Compares a (verified) proof's snapshot, hash function, currencies, root hash and totals with the record. */
export function compareWithRecord(proof: ProofV1, r: RegistryRecord): RegistryCheck {
  if (r.snapshotId !== proof.snapshotId)
    return { ok: false, reason: `the record is for snapshot ${r.snapshotId}, not ${proof.snapshotId}` }
  if (r.hashName !== proof.hash) return { ok: false, reason: `the anchor uses ${r.hashName}, the proof ${proof.hash}` }
  if (r.rootHash.toLowerCase() !== proof.root.hash.toLowerCase())
    return { ok: false, reason: `the anchored root is ${r.rootHash}, the proof's is ${proof.root.hash}` }
  const symbols = proof.currencies.map((c) => c.symbol)
  if (JSON.stringify(r.currencies) !== JSON.stringify(symbols))
    return {
      ok: false,
      reason: `the anchored currencies are ${r.currencies.join(',')}, the proof's ${symbols.join(',')}`,
    }
  for (const [i, sym] of symbols.entries()) {
    const want = r.totals[i]
    const got = proof.root.balances[i]
    if (want === undefined || got === undefined || BigInt(want) !== BigInt(got))
      return { ok: false, reason: `the anchored ${sym} total is ${want}, the proof's is ${got}` }
  }
  return { ok: true }
}
