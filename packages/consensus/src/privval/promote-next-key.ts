/**
 * Promotion of the next consensus key once the chain has rotated to it (proof of stake,
 * `cairn staking rotate-key`; docs/operations/keys.md, "Rotating the consensus key").
 *
 * While a rotation is under way the node holds two keys, `DATADIR/keys/validator.key` (the old
 * one, X) and `validator.next.key` (the new one, Y), and signs each height with the one in its set.
 * Once X is in no set at or after the next height the node signs (and Y is in it), X is done for
 * good: the staking contract never lets a retired address back into a set. The node then makes
 * the files say so — `validator.key` is Y, and X is kept as `validator.retired-<X>.key` (never
 * deleted: it may be needed to prove what it signed) — and goes on signing with Y, which it held
 * already: nothing changes in memory, and a restart loads Y alone.
 *
 * The two steps, each made durable (the directory fsynced) before the next:
 *
 * 1. `validator.key` gets a second name, `validator.retired-<X>.key` (a hard link; a copy where the
 *    file system has none);
 * 2. `validator.next.key` is renamed over `validator.key` (atomic: X's file lives on as retired).
 *
 * At no instant is there no `validator.key`. A crash between the steps leaves X under both names
 * beside the next key: the start completes step 2 ({@link recoverKeyPromotion}), as the retired
 * file exists only once the promotion was decided. A next key with no `validator.key` at all was
 * not left by the node (a file moved by hand): the start refuses it, saying what to do.
 *
 * On a post-quantum chain the ML-DSA seed moves with the key (`validator.next.mldsa.seed` over
 * `validator.mldsa.seed`, the old one kept as `validator.retired-<address>.mldsa.seed`,
 * {@link promoteNextPqKeyFiles}). Under hybrid the seed goes first, then the key, four steps each
 * made durable: (1) the seed's second name, (2) the next seed renamed over it, (3) and (4) the key's
 * as above. The retired seed named by the current key's address is the decision, as the retired
 * key is: a start that finds it beside a next seed or a next key completes the rest
 * ({@link recoverKeyPromotion}), so `validator.key` and `validator.mldsa.seed` never stay a
 * mismatched pair. Under ml-dsa-65 the validator is its seed's `pqAddress` and the secp256k1
 * `validator.key` (the operator's account, which signs no vote) stays: the seed alone moves, in
 * steps (1) and (2), the retired seed named by its `pqAddress`.
 *
 * With a remote signer or an HSM the keys are not files here, and the node cannot rewrite the
 * operator's config: it logs once which field to change (`bft.signer.address`/`nextAddress`,
 * `key`/`nextKey`). An HSM on a hybrid chain keeps its ML-DSA seeds in the datadir: they move as
 * above, steps (1) and (2), the retired seed named by the old token key's address
 * (hsm-pq-seeds.ts), before the warning. A remote signer's seeds are on the signer's machine.
 */
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  renameSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { keccak256, mlDsa65Keygen, toChecksumAddress } from '@cairn/crypto'
import { bytesToHex, CairnError, equalsBytes, errorMessage, fsyncDir, hexToBytes, type Logger } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'
import { type KeyFile, loadOrCreateKey } from './key-file.ts'
import { loadPqSeed, pqNextSeedPath, pqSeedPath, retiredPqSeedName } from './pq-seed-file.ts'
import type { ValidatorKeys } from './validator-rotation.ts'

/** The name a retired validator key is kept under in `DATADIR/keys` (its EIP-55 address). */
export function retiredKeyName(address: string): string {
  return `validator.retired-${address}.key`
}

const RETIRED = /^validator\.retired-(0x[0-9a-fA-F]{40})\.key$/

/** The retired validator keys in `keysDir`, by file name. */
export function retiredKeyFiles(keysDir: string): string[] {
  return existsSync(keysDir) ? readdirSync(keysDir).filter((f) => RETIRED.test(f)) : []
}

/** What a promotion did: the key now in `validator.key`, and where the old one is kept. */
export interface PromotedKeys {
  /** The new key, now at `validator.key`. */
  current: KeyFile
  /** The old key's address. */
  retired: string
  /** Where the old key is kept: `validator.retired-<address>.key`. */
  retiredPath: string
}

function paths(keysDir: string) {
  return { current: join(keysDir, 'validator.key'), next: join(keysDir, 'validator.next.key') }
}

/** The key at `path` (permissions checked), or null when there is no such file: never creates one. */
function existingKey(path: string, label: string): KeyFile | null {
  return existsSync(path) ? loadOrCreateKey(path, label) : null
}

/** Gives the file at `from` the second name `to`: a hard link, or a copy (0600, fsynced, renamed into place). */
function keepAs(from: string, to: string): void {
  try {
    linkSync(from, to)
    return
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'ENOSYS')
      throw err
  }
  const tmp = `${to}.tmp-${process.pid}`
  copyFileSync(from, tmp, constants.COPYFILE_EXCL)
  chmodSync(tmp, 0o600)
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, to)
}

/**
 * Makes `validator.next.key` the validator key, keeping the old one as
 * `validator.retired-<address>.key` (see the module comment for the steps). Completes an earlier
 * promotion that stopped between them. Decides nothing: the caller knows that the chain rotated.
 * @param expected the addresses the files must hold (what the caller decided on); absent: any
 * @throws CairnError `KEY_PROMOTION_NOTHING` when either file is absent; `KEY_PROMOTION_CONFLICT`
 * when the files hold other keys than `expected`, or a retired file of the old key's address holds
 * another key; `KEY_FILE_*` for a bad key file
 */
export function promoteNextKeyFile(keysDir: string, expected?: { current: string; next: string }): PromotedKeys {
  const p = paths(keysDir)
  const old = existingKey(p.current, 'validator key')
  const next = existingKey(p.next, 'next validator key')
  if (old === null || next === null) {
    throw new CairnError(
      ConsensusErrorCode.KEY_PROMOTION_NOTHING,
      `${keysDir} holds no ${old === null ? 'validator.key' : 'validator.next.key'}: there is no next key to promote`,
      { fault: 'caller', hint: 'a promotion needs validator.key and validator.next.key' },
    )
  }
  if (expected !== undefined && (old.address !== expected.current || next.address !== expected.next)) {
    throw new CairnError(
      ConsensusErrorCode.KEY_PROMOTION_CONFLICT,
      `the key files changed since the start: validator.key is ${old.address} and validator.next.key ${next.address}, not ${expected.current} and ${expected.next}`,
      { fault: 'caller', hint: 'put back the files the node started with, or restart it to load the ones there now' },
    )
  }
  const retiredPath = join(keysDir, retiredKeyName(old.address))
  const kept = existingKey(retiredPath, 'retired validator key')
  if (kept === null) {
    keepAs(p.current, retiredPath)
    fsyncDir(keysDir)
  } else if (kept.address !== old.address) {
    throw new CairnError(
      ConsensusErrorCode.KEY_PROMOTION_CONFLICT,
      `${retiredPath} holds the key of ${kept.address}, not of ${old.address}: the old key cannot be kept under its name`,
      { fault: 'caller', hint: 'move that file away (it is not the key its name says), then start again' },
    )
  }
  renameSync(p.next, p.current)
  fsyncDir(keysDir)
  return { current: { ...next, path: p.current }, retired: old.address, retiredPath }
}

/**
 * At start, before the validator key is loaded: completes a promotion a crash interrupted
 * between its steps (`validator.key` kept as `validator.retired-<its address>.key`, and a next
 * key; on a PQ chain a retired seed beside a next seed or a next key, see the module comment),
 * and refuses a next key without `validator.key` (moved by hand: the node never leaves that) when
 * a retired key shows a promotion was begun, or when the node would otherwise create a new
 * validator key.
 * @returns what the completed promotion did, or null when there was none to complete
 * @throws CairnError `KEY_PROMOTION_INTERRUPTED` for a next key without `validator.key`
 */
export function recoverKeyPromotion(keysDir: string, opts: { validator: boolean }): PromotedKeys | null {
  const p = paths(keysDir)
  const seeds = recoverPqSeedPromotion(keysDir)
  if (!existsSync(p.next)) return seeds
  const current = existingKey(p.current, 'validator key')
  if (current !== null) {
    // Both names for the current key (step 1 ran, step 2 did not), or under hybrid its seed
    // already retired: the promotion was decided.
    const decided =
      existsSync(join(keysDir, retiredKeyName(current.address))) ||
      existsSync(join(keysDir, retiredPqSeedName(current.address)))
    return decided ? promoteNextKeyFile(keysDir) : seeds
  }
  const retired = retiredKeyFiles(keysDir)
  if (retired.length === 0 && !opts.validator) return null
  const next = loadOrCreateKey(p.next, 'next validator key')
  throw new CairnError(
    ConsensusErrorCode.KEY_PROMOTION_INTERRUPTED,
    `${keysDir} holds validator.next.key (${next.address}) but no validator.key${retired.length > 0 ? ` (retired: ${retired.join(', ')})` : ''}: a key file was moved by hand`,
    {
      fault: 'caller',
      hint: `if the chain has rotated to ${next.address} (\`cairn staking validators\` lists it), run \`mv validator.next.key validator.key\` in ${keysDir}; if not, put the current key back as validator.key (from its retired file or your backup)`,
    },
  )
}

/** The EIP-55 `pqAddress` of a seed's ML-DSA-65 key (keccak256(public key)[12:]). */
export function pqSeedAddress(seed: Uint8Array): string {
  const { publicKey } = mlDsa65Keygen(seed)
  return toChecksumAddress(bytesToHex(keccak256(publicKey).subarray(12)))
}

/**
 * A seed promotion a crash interrupted between its steps (1) and (2): a next seed beside a retired
 * seed named by the current key's address (hybrid) or by the current seed's `pqAddress`
 * (ml-dsa-65) — the node makes that name only once the chain has rotated. Renames the next seed
 * into place; under hybrid {@link recoverKeyPromotion} then moves the key.
 */
function recoverPqSeedPromotion(keysDir: string): PromotedKeys | null {
  const seedPath = pqSeedPath(keysDir)
  const nextSeedPath = pqNextSeedPath(keysDir)
  if (!existsSync(nextSeedPath) || !existsSync(seedPath)) return null
  const key = existingKey(paths(keysDir).current, 'validator key')
  const byKey = key === null ? null : join(keysDir, retiredPqSeedName(key.address))
  if (byKey !== null && existsSync(byKey)) {
    movePqSeed(keysDir, key?.address as string)
    return { current: key as KeyFile, retired: key?.address as string, retiredPath: byKey }
  }
  const address = pqSeedAddress(loadPqSeed(seedPath))
  const byPq = join(keysDir, retiredPqSeedName(address))
  if (!existsSync(byPq) || key === null) return null
  movePqSeed(keysDir, address)
  return { current: key, retired: address, retiredPath: byPq }
}

/**
 * Steps (1) and (2) of a seed promotion: `validator.mldsa.seed` kept as
 * `validator.retired-<retiredAddress>.mldsa.seed`, then `validator.next.mldsa.seed` renamed over
 * it, each fsynced. Completes a promotion stopped between them; with no next seed and the seed
 * already retired under that name, there is nothing left to do.
 * @throws CairnError `KEY_PROMOTION_NOTHING` with no next seed to promote; `KEY_PROMOTION_CONFLICT`
 * when the retired name holds another seed than the current one
 */
export function movePqSeed(keysDir: string, retiredAddress: string): string {
  const seedPath = pqSeedPath(keysDir)
  const nextSeedPath = pqNextSeedPath(keysDir)
  const retiredPath = join(keysDir, retiredPqSeedName(retiredAddress))
  if (!existsSync(nextSeedPath)) {
    if (existsSync(retiredPath)) return retiredPath
    throw new CairnError(
      ConsensusErrorCode.KEY_PROMOTION_NOTHING,
      `${keysDir} holds no validator.next.mldsa.seed: there is no next ML-DSA seed to promote`,
      { fault: 'caller', hint: 'a promotion on a hybrid or ml-dsa-65 chain needs validator.next.mldsa.seed' },
    )
  }
  const current = loadPqSeed(seedPath)
  if (!existsSync(retiredPath)) {
    keepAs(seedPath, retiredPath)
    fsyncDir(keysDir)
  } else if (!equalsBytes(loadPqSeed(retiredPath), current)) {
    throw new CairnError(
      ConsensusErrorCode.KEY_PROMOTION_CONFLICT,
      `${retiredPath} holds another ML-DSA seed than validator.mldsa.seed: the old seed cannot be kept under its name`,
      { fault: 'caller', hint: 'move that file away (it is not the seed its name says), then start again' },
    )
  }
  renameSync(nextSeedPath, seedPath)
  fsyncDir(keysDir)
  return retiredPath
}

/**
 * The promotion of a post-quantum chain: under hybrid the next seed, then the next key
 * ({@link promoteNextKeyFile}); under ml-dsa-65 the next seed alone (`validator.key`, the
 * operator's secp256k1 account, stays). Completes an earlier promotion that stopped between steps.
 * @param expected the consensus addresses the files must hold (hybrid: the keys'; ml-dsa-65: the
 * seeds' `pqAddress`), what the caller decided on
 * @throws CairnError `KEY_PROMOTION_NOTHING`, `KEY_PROMOTION_CONFLICT`, `KEY_FILE_*`
 */
export function promoteNextPqKeyFiles(
  keysDir: string,
  scheme: 'hybrid' | 'ml-dsa-65',
  expected: { current: string; next: string },
): PromotedKeys {
  const p = paths(keysDir)
  if (scheme === 'hybrid') {
    const old = existingKey(p.current, 'validator key')
    const next = existingKey(p.next, 'next validator key')
    if (old !== null && next !== null && (old.address !== expected.current || next.address !== expected.next)) {
      throw conflict(`validator.key is ${old.address} and validator.next.key ${next.address}`, expected)
    }
    if (old !== null) movePqSeed(keysDir, old.address)
    return promoteNextKeyFile(keysDir, expected)
  }
  const key = existingKey(p.current, 'validator key')
  if (key === null) {
    throw new CairnError(ConsensusErrorCode.KEY_PROMOTION_NOTHING, `${keysDir} holds no validator.key`, {
      fault: 'caller',
      hint: 'an ml-dsa-65 validator keeps its operator key validator.key beside its seed',
    })
  }
  const nextSeedPath = pqNextSeedPath(keysDir)
  if (existsSync(nextSeedPath)) {
    const current = pqSeedAddress(loadPqSeed(pqSeedPath(keysDir)))
    const next = pqSeedAddress(loadPqSeed(nextSeedPath))
    if (current !== expected.current || next !== expected.next) {
      throw conflict(`validator.mldsa.seed is ${current} and validator.next.mldsa.seed ${next}`, expected)
    }
  }
  const retiredPath = movePqSeed(keysDir, expected.current)
  return { current: key, retired: expected.current, retiredPath }
}

/**
 * The seed half of an HSM validator's promotion once the chain rotated from the token key
 * `current` (EIP-55) to the one whose next seed has `pqAddress` `nextPq`: `validator.next.mldsa.seed`
 * over `validator.mldsa.seed`, the old one kept as `validator.retired-<current>.mldsa.seed`. Nothing
 * to do when it is done already.
 * @returns where the old seed is kept
 * @throws CairnError `KEY_PROMOTION_CONFLICT` when the next seed is not the one the node started with
 */
export function promoteHsmPqSeeds(keysDir: string, expected: { current: string; nextPq: string }): string {
  const nextSeedPath = pqNextSeedPath(keysDir)
  if (existsSync(nextSeedPath)) {
    const found = pqSeedAddress(loadPqSeed(nextSeedPath))
    if (found !== expected.nextPq) {
      throw new CairnError(
        ConsensusErrorCode.KEY_PROMOTION_CONFLICT,
        `the seed files changed since the start: validator.next.mldsa.seed is ${found}'s, not ${expected.nextPq}'s`,
        { fault: 'caller', hint: 'put back the seed the node started with, or restart it to load the one there now' },
      )
    }
  }
  return movePqSeed(keysDir, expected.current)
}

function conflict(found: string, expected: { current: string; next: string }): CairnError {
  return new CairnError(
    ConsensusErrorCode.KEY_PROMOTION_CONFLICT,
    `the key files changed since the start: ${found}, not ${expected.current} and ${expected.next}`,
    { fault: 'caller', hint: 'put back the files the node started with, or restart it to load the ones there now' },
  )
}

/** The set of a height, as far as the promotion looks at it. */
export interface ValidatorSetView {
  indexOf(address: Uint8Array): number
}

/** The keys a node may promote, by where they are held (`bft.signer.kind`). */
export type PromotionKeys =
  /** `pq`: a post-quantum chain, whose seeds move too (under ml-dsa-65 `current`/`next` are the seeds' pqAddress). */
  | { kind: 'local'; keysDir: string; current: string; next: string; pq?: 'hybrid' | 'ml-dsa-65' }
  | { kind: 'remote'; current: string; next: string }
  /** `pqSeeds`: on a hybrid chain, the datadir's seeds that move with the token keys (hsm-pq-seeds.ts). */
  | {
      kind: 'hsm'
      current: string
      next: string
      key: string
      nextKey: string
      pqSeeds?: { keysDir: string; nextPq: string } | undefined
    }

export interface NextKeyPromotionModules {
  logger: Logger
  /** The validator set of a height (the engine's schedule). */
  validatorsAt: (height: number) => ValidatorSetView
}

/** What the promotion follows: the chain's head, and its new heads as they come. */
export interface HeadSource {
  readonly head: { header: { number: bigint } }
  readonly events: {
    on(event: 'newHead', fn: (e: { block: { header: { number: bigint } } }) => void): () => void
  }
}

/**
 * Watches the sets for the moment the chain has rotated this validator to its next key, then
 * promotes the key files (local keys) or says which config field to change (remote, HSM). Once.
 */
export class NextKeyPromotion {
  readonly #keys: PromotionKeys
  readonly #m: NextKeyPromotionModules
  readonly #current: Uint8Array
  readonly #next: Uint8Array
  #done = false

  constructor(keys: PromotionKeys, modules: NextKeyPromotionModules) {
    this.#keys = keys
    this.#m = modules
    this.#current = hexToBytes(keys.current)
    this.#next = hexToBytes(keys.next)
  }

  /** True once it has promoted (or said what to change), or given up. */
  get done(): boolean {
    return this.#done
  }

  /**
   * With the chain at `head`: promotes when the current key is not in the set of the next height
   * the node signs (head + 1) and the next key is. Nothing else can bring the old key back (a
   * retired address never enters a set again), so that set decides for every later one.
   * @returns true when it promoted (or warned) now
   */
  check(head: bigint): boolean {
    if (this.#done) return false
    const height = Number(head) + 1
    const set = this.#m.validatorsAt(height)
    if (set.indexOf(this.#current) >= 0 || set.indexOf(this.#next) < 0) return false
    this.#done = true
    const k = this.#keys
    const fields = { old: k.current, new: k.next, height }
    if (k.kind === 'remote') {
      this.#m.logger.warn(
        fields,
        `the chain rotated this validator to ${k.next}: set bft.signer.address = "${k.next}" and remove bft.signer.nextAddress in the config before the next restart (${k.current} signs nothing any more)`,
      )
      return true
    }
    if (k.kind === 'hsm') {
      let seeds = ''
      if (k.pqSeeds) {
        const current = toChecksumAddress(k.current)
        try {
          const retired = promoteHsmPqSeeds(k.pqSeeds.keysDir, { current, nextPq: k.pqSeeds.nextPq })
          seeds = `; validator.mldsa.seed is now the seed of "${k.nextKey}", the old one kept as ${basename(retired)} (keep it offline, never run it again)`
        } catch (err) {
          seeds = `; the ML-DSA seeds could not be moved (${errorMessage(err)}): the node keeps signing with the seeds it loaded, and the next start pairs them again`
        }
      }
      this.#m.logger.warn(
        fields,
        `the chain rotated this validator to ${k.next}: set bft.signer.key = "${k.nextKey}" and remove bft.signer.nextKey in the config before the next restart (the key "${k.key}" signs nothing any more)${seeds}`,
      )
      return true
    }
    try {
      const expected = { current: k.current, next: k.next }
      if (k.pq === 'ml-dsa-65') {
        const promoted = promoteNextPqKeyFiles(k.keysDir, 'ml-dsa-65', expected)
        this.#m.logger.info(
          { ...fields, retired: promoted.retiredPath },
          `consensus key promoted: validator.mldsa.seed is ${k.next}'s; the old seed is kept as ${retiredPqSeedName(promoted.retired)} (keep it offline, never run it again)`,
        )
        return true
      }
      const promoted =
        k.pq === 'hybrid'
          ? promoteNextPqKeyFiles(k.keysDir, 'hybrid', expected)
          : promoteNextKeyFile(k.keysDir, expected)
      this.#m.logger.info(
        { ...fields, retired: promoted.retiredPath },
        `consensus key promoted: validator.key is ${promoted.current.address}; ${
          k.pq === 'hybrid'
            ? `the old key is kept as ${retiredKeyName(promoted.retired)} and its seed as ${retiredPqSeedName(promoted.retired)} (keep them offline, never run them again)`
            : `the old key is kept as ${retiredKeyName(promoted.retired)} (keep it offline, never run it again)`
        }`,
      )
    } catch (err) {
      // Signing goes on with the keys in memory; the next start looks again.
      this.#m.logger.warn(
        { ...fields, err: errorMessage(err) },
        `cannot promote ${k.pq === 'ml-dsa-65' ? 'validator.next.mldsa.seed' : 'validator.next.key'}: the node keeps signing with the keys it loaded; the next start tries again`,
      )
    }
    return true
  }

  /**
   * Checks now (a node started long after the rotation promotes at once), then at every new
   * head until done; after the engine started (its schedule restored).
   * @returns a function that stops following
   */
  follow(chain: HeadSource): () => void {
    const check = (head: bigint) => {
      try {
        this.check(head)
      } catch (err) {
        this.#done = true
        this.#m.logger.warn({ err: errorMessage(err) }, 'cannot check whether the next consensus key took over')
      }
    }
    check(chain.head.header.number)
    if (this.#done) return () => {}
    let latest: bigint | undefined
    let stopped = false
    // Off the commit path: the set of the next height is read (and the files moved) just after it.
    const unsubscribe = chain.events.on('newHead', ({ block }) => {
      const scheduled = latest !== undefined
      latest = block.header.number
      if (scheduled) return
      setImmediate(() => {
        const head = latest as bigint
        latest = undefined
        if (stopped) return
        check(head)
        if (this.#done) stop()
      })
    })
    const stop = () => {
      stopped = true
      unsubscribe()
    }
    return stop
  }
}

/**
 * The promotion a validator node runs, or null when it holds no next key: the datadir's
 * `validator.next.key` ({@link ValidatorKeys.following}) with local keys; the signer's second
 * address with a remote signer or an HSM (`nextAddress`, `nextKey`; on a hybrid chain the HSM's
 * seeds in the datadir move too, `hsmPqSeeds`).
 */
export function nextKeyPromotion(
  signer: { kind: 'local' } | { kind: 'remote' } | { kind: 'hsm'; key: string; nextKey?: string | undefined },
  keys: {
    local: ValidatorKeys | null | undefined
    external: { readonly addresses?: readonly Uint8Array[] } | undefined
    /** An HSM on a hybrid chain: its seeds in the datadir (hsm-signer.ts `pqRotation`). */
    hsmPqSeeds?: { keysDir: string; nextPq: string } | null
  },
  modules: NextKeyPromotionModules,
): NextKeyPromotion | null {
  if (signer.kind === 'local') {
    const k = keys.local
    if (!k?.following) return null
    const keysDir = dirname(k.current.path)
    return new NextKeyPromotion(
      { kind: 'local', keysDir, current: k.current.address, next: k.following.address },
      modules,
    )
  }
  const [current, next] = keys.external?.addresses ?? []
  if (current === undefined || next === undefined) return null
  const addresses = { current: bytesToHex(current), next: bytesToHex(next) }
  if (signer.kind === 'remote') return new NextKeyPromotion({ kind: 'remote', ...addresses }, modules)
  if (signer.nextKey === undefined) return null
  return new NextKeyPromotion(
    {
      kind: 'hsm',
      ...addresses,
      key: signer.key,
      nextKey: signer.nextKey,
      ...(keys.hsmPqSeeds ? { pqSeeds: keys.hsmPqSeeds } : {}),
    },
    modules,
  )
}

/**
 * The promotion of a validator with local keys on a post-quantum chain, or null when no rotation
 * is under way: under hybrid `validator.next.key` with `validator.next.mldsa.seed` (by the keys'
 * addresses), under ml-dsa-65 `validator.next.mldsa.seed` (by the seeds' `pqAddress`).
 */
export function pqNextKeyPromotion(
  scheme: 'hybrid' | 'ml-dsa-65',
  keys: { keysDir: string; current: string; next: string } | null,
  modules: NextKeyPromotionModules,
): NextKeyPromotion | null {
  return keys === null ? null : new NextKeyPromotion({ kind: 'local', ...keys, pq: scheme }, modules)
}
