/**
 * The signer state in a file, made durable before every signature: the record is written to a
 * temporary file, fsynced, renamed over the old one and the directory fsynced, so after a crash at
 * any instant the file holds either the previous record or the new one, whole.
 *
 * The file is JSON `{"height":…,"round":…,"step":…,"blockHash":"0x…"|null}`. Synchronous on purpose:
 * the caller must not send the signature before the record is on disk.
 */
import { existsSync, readFileSync } from 'node:fs'
import { CairnError, errorMessage } from '@cairn/utils'
import { z } from 'zod'
import { ConsensusErrorCode } from '../errors.ts'
import { replaceFileDurably } from './durable-file.ts'
import { checkSign, type SignCheck, type SignedRecord, type SignerState } from './signer-state.ts'

const RecordSchema = z.object({
  height: z.number().int().nonnegative(),
  round: z.number().int().nonnegative(),
  step: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  blockHash: z
    .string()
    .regex(/^0x[0-9a-f]{64}$/)
    .nullable(),
})

function unusable(message: string, path: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_STATE_UNUSABLE, `signer state ${path}: ${message}`, {
    fault: 'internal',
    cause,
    hint: 'do not delete or edit this file while the validator key is in use: it is what stops the key signing twice',
  })
}

export class FileSignerState implements SignerState {
  readonly path: string
  #last: SignedRecord | null

  /**
   * Opens (or, when absent, starts) the signer state at `path`.
   * @throws CairnError `CONSENSUS_BFT_SIGNER_STATE_UNUSABLE` when the file exists but cannot be read or parsed
   */
  constructor(opts: { path: string }) {
    this.path = opts.path
    this.#last = existsSync(opts.path) ? FileSignerState.#read(opts.path) : null
  }

  static #read(path: string): SignedRecord {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw unusable(`cannot be read: ${errorMessage(err)}`, path, err)
    }
    const r = RecordSchema.safeParse(parsed)
    if (!r.success) throw unusable(`is not a signer state: ${r.error.message}`, path)
    const { height, round, step, blockHash } = r.data
    return {
      height,
      round,
      step,
      blockHash: blockHash === null ? null : new Uint8Array(Buffer.from(blockHash.slice(2), 'hex')),
    }
  }

  checkAndRecord(next: SignedRecord): SignCheck {
    const check = checkSign(this.#last, next)
    if (check.ok && !check.again) {
      this.#write(next)
      this.#last = { ...next }
    }
    return check
  }

  last(): SignedRecord | null {
    return this.#last
  }

  #write(r: SignedRecord): void {
    const body = JSON.stringify({
      height: r.height,
      round: r.round,
      step: r.step,
      blockHash: r.blockHash === null ? null : `0x${Buffer.from(r.blockHash).toString('hex')}`,
    })
    try {
      replaceFileDurably(this.path, body)
    } catch (err) {
      throw unusable(`cannot be written: ${errorMessage(err)}`, this.path, err)
    }
  }
}
