/**
 * A validator killed in the middle of a height restarts from its consensus WAL and signer state on
 * disk (a real temp directory): it is back in the round with its lock, honours the lock in the next
 * round, and its signer refuses a vote conflicting with one it signed before the kill.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type BftAction,
  type BftEvent,
  type BftStateMachine,
  ConsensusWal,
  createVerifier,
  FileSignerState,
  hashKey,
  type SignedVote,
  Step,
  ValidatorSigner,
  type Vote,
} from '../../src/index.ts'
import { block, CHAIN_ID, keyAt, machine, nonProposer, others, PRECOMMIT, PREVOTE, proposal, vote } from './fixture.ts'

const A = block('block A')
const B = block('block B')

const verifier = createVerifier(CHAIN_ID)
const voteKey = (v: Vote): string => `${v.type}/${v.height}/${v.round}/${hashKey(v.blockHash)}`

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-wal-restart-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** The driver's loop, as the node runs it: WAL first, sign through the signer state, own votes synced before they leave. */
class Validator {
  readonly wal: ConsensusWal
  readonly signer: ValidatorSigner
  readonly machine: BftStateMachine
  readonly sent: SignedVote[] = []
  readonly refused: string[] = []
  #replaying = false
  readonly #logged = new Set<string>()

  constructor(
    readonly self: number,
    height: number,
  ) {
    this.wal = ConsensusWal.open({ dir: join(dir, 'wal') })
    this.signer = new ValidatorSigner(
      { chainId: CHAIN_ID, privateKey: keyAt(self) },
      { state: new FileSignerState({ path: join(dir, 'signer-state.json') }) },
    )
    this.machine = machine(self)
    const events = this.wal.replay(height)
    // Own votes already in the WAL are not signed again during the replay: the record hands them
    // to the machine (the signer state would refuse any but the last: it only moves forward).
    const me = hashKey(this.signer.address)
    for (const e of events) {
      if (e.kind === 'vote' && hashKey(verifier.voteSigner(e.vote)) === me) this.#logged.add(voteKey(e.vote))
    }
    this.#replaying = true
    this.#act(this.machine.start())
    for (const e of events) this.#act(this.machine.handle(e))
    this.#replaying = false
  }

  input(e: BftEvent): void {
    this.wal.append(e)
    this.#act(this.machine.handle(e))
  }

  #act(actions: BftAction[]): void {
    for (const a of actions) {
      if (a.kind !== 'broadcastVote') continue
      if (this.#replaying && this.#logged.has(voteKey(a.vote))) continue
      const signed = this.signer.signVote(a.vote)
      if ('refused' in signed) {
        this.refused.push(signed.refused)
        continue
      }
      const own: BftEvent = { kind: 'vote', vote: signed }
      if (!this.#replaying) this.wal.append(own, { sync: true })
      this.sent.push(signed)
      this.#act(this.machine.handle(own))
    }
  }
}

describe('restart from the WAL on disk', () => {
  it('comes back locked in its round, keeps the lock, and never signs a conflicting vote', () => {
    const s = nonProposer()
    const before = new Validator(s, 1)
    before.input({ kind: 'proposal', proposal: proposal(1, 0, A) })
    before.input({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    for (const i of others(s)) before.input({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) })
    for (const i of others(s)) before.input({ kind: 'vote', vote: vote(i, PRECOMMIT, 1, 0, null) })
    before.input({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 } })
    const at = before.machine.snapshot()
    expect(at).toMatchObject({ round: 1, step: Step.PROPOSE, lockedRound: 0, lockedValue: A.hash })
    expect(before.sent.map((v) => [v.type, v.round, v.blockHash])).toEqual([
      [PREVOTE, 0, A.hash],
      [PRECOMMIT, 0, A.hash],
    ])
    before.wal.close() // kill -9 closes the descriptors too; nothing else is flushed

    const after = new Validator(s, 1)
    expect(after.machine.snapshot()).toEqual(at)
    expect(after.refused).toEqual([])
    expect(after.sent).toEqual([]) // nothing new signed by the replay
    // Round 1 proposes another block, fresh: still locked on A, it prevotes nil.
    after.input({ kind: 'proposal', proposal: proposal(1, 1, B) })
    after.input({ kind: 'validity', height: 1, blockHash: B.hash, valid: true })
    expect(after.sent.at(-1)).toMatchObject({ type: PREVOTE, round: 1, blockHash: null })
    // Whatever a buggy driver asked, the key does not sign against its round-0 precommit.
    expect(after.signer.signVote({ type: PRECOMMIT, height: 1, round: 0, blockHash: null })).toHaveProperty('refused')
    after.wal.close()
  })
})
