/**
 * The remote signer's double-sign protection: per key (and chain), the last (height, round, step)
 * it signed and the digest it signed there (Web3Signer's slashing-protection database, tmkms's
 * `state_file`).
 *
 * The rule ({@link checkProtection}): a later (height, round, step) is signed; the same one only
 * with the same digest (the same message again: the same bytes, signatures being deterministic);
 * anything else — an earlier step, or another digest at the same one — is refused. A new record is
 * durable before {@link SignProtection.checkAndRecord} returns, so the signature never leaves
 * before the record that forbids its conflicts: a signer killed at any instant and restarted
 * refuses whatever would conflict with what it may have sent.
 *
 * Comparing digests, not block hashes, is stricter than the in-process `checkSign`: a proposal
 * re-signed with another `polRound` is a different message, and is refused.
 *
 * A height further ahead of the key's last one than `maxHeightJump` is refused too, and not
 * recorded. CometBFT's privval moves its state forward on any valid sign, so one request for a
 * height no chain will reach (2^53 − 1 here, the largest a JSON number holds exactly) would make
 * the key refuse every height the chain does reach, for good; the bound keeps what one request can
 * spoil to `maxHeightJump` heights. A key with no record yet takes its first height as given.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CairnError, equalsBytes, errorMessage } from '@cairn/utils'
import { z } from 'zod'
import { ConsensusErrorCode } from '../errors.ts'
import { replaceFileDurably } from './durable-file.ts'
import type { SignStep } from './signer-state.ts'

/** What one key last signed on one chain. */
export interface ProtectionRecord {
  height: number
  round: number
  step: SignStep
  /** The 32-byte digest signed (`voteDigest` / `proposalDigest`). */
  digest: Uint8Array
}

export type ProtectionCheck = { ok: true; again: boolean } | { ok: false; reason: string }

/**
 * The default bound on a height's jump ahead of the key's last: about 28 hours of 1-second blocks.
 * A validator away longer is jailed for downtime anyway; its operator raises the bound once
 * (`cairn signer serve --max-height-jump`) when it returns.
 */
export const DEFAULT_MAX_HEIGHT_JUMP = 100_000

/** What the rule is given besides the records. */
export interface ProtectionRule {
  /** The most `next.height` may exceed `last.height` by; 0: no bound (default {@link DEFAULT_MAX_HEIGHT_JUMP}). */
  maxHeightJump?: number
}

/** The rule (pure): may `next` be signed after `last`? */
export function checkProtection(
  last: ProtectionRecord | null,
  next: ProtectionRecord,
  rule: ProtectionRule = {},
): ProtectionCheck {
  if (!Number.isSafeInteger(next.height) || next.height < 0 || !Number.isSafeInteger(next.round) || next.round < 0)
    return { ok: false, reason: 'height and round must be whole numbers in 0..2^53 - 1' }
  if (last === null) return { ok: true, again: false }
  const at = `${next.height}/${next.round}/${next.step}`
  const was = `${last.height}/${last.round}/${last.step}`
  const jump = rule.maxHeightJump ?? DEFAULT_MAX_HEIGHT_JUMP
  if (jump > 0 && next.height - last.height > jump)
    return {
      ok: false,
      reason: `height ${next.height} is ${next.height - last.height} ahead of the last signed (${was}), more than ${jump}: refused, not recorded (cairn signer serve --max-height-jump)`,
    }
  const order =
    Math.sign(next.height - last.height) || Math.sign(next.round - last.round) || Math.sign(next.step - last.step)
  if (order > 0) return { ok: true, again: false }
  if (order < 0) return { ok: false, reason: `regression: ${at} after ${was}` }
  if (equalsBytes(next.digest, last.digest)) return { ok: true, again: true }
  return { ok: false, reason: `conflict at ${at}: another message was signed there` }
}

/** Where the records are kept durably. `save` returns only once the record is on disk. */
export interface ProtectionStore {
  load(chainId: bigint, address: string): ProtectionRecord | null
  save(chainId: bigint, address: string, record: ProtectionRecord): void
}

/** Records in memory (tests). */
export class MemoryProtectionStore implements ProtectionStore {
  readonly #records = new Map<string, ProtectionRecord>()
  /** Saves so far (a test can count them). */
  saves = 0

  load(chainId: bigint, address: string): ProtectionRecord | null {
    return this.#records.get(`${chainId}/${address.toLowerCase()}`) ?? null
  }

  save(chainId: bigint, address: string, record: ProtectionRecord): void {
    this.saves++
    this.#records.set(`${chainId}/${address.toLowerCase()}`, { ...record })
  }
}

const FileRecord = z
  .object({
    chainId: z.string().regex(/^\d+$/),
    address: z.string().regex(/^0x[0-9a-f]{40}$/),
    height: z.number().int().nonnegative(),
    round: z.number().int().nonnegative(),
    step: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    digest: z.string().regex(/^0x[0-9a-f]{64}$/),
  })
  .strict()

function unusable(message: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_STATE_UNUSABLE, `signer protection database: ${message}`, {
    fault: 'internal',
    cause,
    hint: 'never delete, edit or share this directory while its keys are in use: it is what stops them signing twice',
  })
}

/**
 * Records in a directory, one JSON file per chain and key (`<chainId>-<address>.json`), each
 * replaced atomically: written to a temporary file, fsynced, renamed over the old one, the
 * directory fsynced. A `LOCK` file (with the owner's pid) keeps a second signer process off the
 * same directory: two processes with one database would each think they hold the last record.
 */
export class FileProtectionStore implements ProtectionStore {
  readonly dir: string
  readonly #lock: string
  #locked = false

  /** @throws CairnError `CONSENSUS_BFT_SIGNER_STATE_UNUSABLE` when the directory is in use by a live process, or unusable */
  constructor(opts: { dir: string; pid?: number; alive?: (pid: number) => boolean }) {
    this.dir = opts.dir
    this.#lock = join(opts.dir, 'LOCK')
    const pid = opts.pid ?? process.pid
    const alive = opts.alive ?? pidAlive
    try {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
      if (existsSync(this.#lock)) {
        const owner = Number(readFileSync(this.#lock, 'utf8').trim())
        if (Number.isInteger(owner) && owner > 0 && owner !== pid && alive(owner)) {
          throw unusable(`${opts.dir} is in use by process ${owner}`)
        }
        unlinkSync(this.#lock)
      }
      writeFileSync(this.#lock, `${pid}\n`, { flag: 'wx', mode: 0o600 })
      this.#locked = true
    } catch (err) {
      if (err instanceof CairnError) throw err
      throw unusable(`cannot lock ${opts.dir}: ${errorMessage(err)}`, err)
    }
  }

  #path(chainId: bigint, address: string): string {
    return join(this.dir, `${chainId}-${address.toLowerCase()}.json`)
  }

  load(chainId: bigint, address: string): ProtectionRecord | null {
    const path = this.#path(chainId, address)
    if (!existsSync(path)) return null
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw unusable(`${path} cannot be read: ${errorMessage(err)}`, err)
    }
    const r = FileRecord.safeParse(parsed)
    if (!r.success) throw unusable(`${path} is not a protection record: ${r.error.issues[0]?.message}`)
    const { height, round, step, digest } = r.data
    return { height, round, step, digest: new Uint8Array(Buffer.from(digest.slice(2), 'hex')) }
  }

  save(chainId: bigint, address: string, record: ProtectionRecord): void {
    const path = this.#path(chainId, address)
    const body = JSON.stringify({
      chainId: chainId.toString(),
      address: address.toLowerCase(),
      height: record.height,
      round: record.round,
      step: record.step,
      digest: `0x${Buffer.from(record.digest).toString('hex')}`,
    })
    try {
      replaceFileDurably(path, body)
    } catch (err) {
      throw unusable(`${path} cannot be written: ${errorMessage(err)}`, err)
    }
  }

  /** Releases the lock (the signer is stopping). */
  close(): void {
    if (!this.#locked) return
    this.#locked = false
    try {
      unlinkSync(this.#lock)
    } catch {
      // gone already
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The protection over a store: the last record of each key in memory (read from the store once),
 * checked and, when new, saved durably before the answer. Synchronous from check to save, so two
 * requests for one key (from two connections) can never both pass the check.
 */
export class SignProtection {
  readonly #store: ProtectionStore
  readonly #last = new Map<string, ProtectionRecord | null>()

  constructor(modules: { store: ProtectionStore }) {
    this.#store = modules.store
  }

  /** Checks `next` for `address` on `chainId` under `rule` and records it durably when allowed and new. */
  checkAndRecord(chainId: bigint, address: string, next: ProtectionRecord, rule: ProtectionRule = {}): ProtectionCheck {
    const k = `${chainId}/${address.toLowerCase()}`
    let last = this.#last.get(k)
    if (last === undefined) {
      last = this.#store.load(chainId, address)
      this.#last.set(k, last)
    }
    const check = checkProtection(last, next, rule)
    if (check.ok && !check.again) {
      this.#store.save(chainId, address, next)
      this.#last.set(k, { ...next, digest: Uint8Array.from(next.digest) })
    }
    return check
  }

  /** The last record of `address` on `chainId`, or null. */
  last(chainId: bigint, address: string): ProtectionRecord | null {
    const k = `${chainId}/${address.toLowerCase()}`
    const known = this.#last.get(k)
    return known !== undefined ? known : this.#store.load(chainId, address)
  }
}
