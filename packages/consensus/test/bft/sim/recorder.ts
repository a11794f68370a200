/** What the simulator watches to check the invariants. */
import { type DuplicateVoteEvidence, hashKey, type SignedVote } from '../../../src/index.ts'

export class Recorder {
  readonly violations: string[] = []
  /** height → honest node → committed block hash key. */
  readonly commits = new Map<number, Map<number, string>>()
  /** Hash keys of every block a signed proposal carried. */
  readonly proposed = new Set<string>()
  /** `node/height/round/step` → hash key, for honest nodes' signatures. */
  readonly #honestSigned = new Map<string, string>()
  /** per honest node: `height/round/type/signer` → the hash keys of the votes it processed. */
  readonly seenVotes = new Map<number, Map<string, Set<string>>>()
  refusals = 0
  /** WAL records torn by a simulated crash mid-append (cut off on restart). */
  tornWalRecords = 0
  walRestarts = 0
  evidence = 0
  maxRound = 0

  /** Signatures by honest validators that joined through a validator-set change (not in the genesis set). */
  joinedSignatures = 0

  /** An honest node signed at `height`: it must be a member of that height's set (joined: by a change). */
  memberSigned(node: number, height: number, member: boolean, joined: boolean): void {
    if (!member) this.fail(`membership: node ${node} signed at height ${height}, where it is not a validator`)
    else if (joined) this.joinedSignatures++
  }

  fail(message: string): void {
    if (this.violations.length < 20) this.violations.push(message)
  }

  commit(node: number, height: number, hash: Uint8Array, valid: boolean): void {
    const key = hashKey(hash)
    if (!this.proposed.has(key))
      this.fail(`validity: node ${node} committed at height ${height} a block never proposed`)
    if (!valid) this.fail(`validity: node ${node} committed an invalid block at height ${height}`)
    let at = this.commits.get(height)
    if (at === undefined) {
      at = new Map()
      this.commits.set(height, at)
    }
    for (const [other, k] of at) {
      if (k !== key) this.fail(`agreement: height ${height}: node ${node} committed ${key}, node ${other} ${k}`)
    }
    at.set(node, key)
  }

  honestSigned(node: number, height: number, round: number, step: number, hash: Uint8Array | null): void {
    const k = `${node}/${height}/${round}/${step}`
    const h = hashKey(hash)
    const was = this.#honestSigned.get(k)
    if (was !== undefined && was !== h) this.fail(`double sign: honest node ${node} signed ${was} and ${h} at ${k}`)
    this.#honestSigned.set(k, h)
  }

  sawVote(
    node: number,
    height: number,
    round: number,
    type: number,
    signer: Uint8Array,
    hash: Uint8Array | null,
  ): void {
    let m = this.seenVotes.get(node)
    if (m === undefined) {
      m = new Map()
      this.seenVotes.set(node, m)
    }
    const k = `${height}/${round}/${type}/${hashKey(signer)}`
    let s = m.get(k)
    if (s === undefined) {
      s = new Set()
      m.set(k, s)
    }
    s.add(hashKey(hash))
  }

  /** A vote the node lost before it was durable (a torn WAL record). */
  lostVote(node: number, vote: SignedVote, signer: Uint8Array): void {
    const k = `${vote.height}/${vote.round}/${vote.type}/${hashKey(signer)}`
    this.seenVotes.get(node)?.get(k)?.delete(hashKey(vote.blockHash))
  }

  forgetVotes(node: number): void {
    this.seenVotes.delete(node)
  }

  /** Every equivocation an honest node processed must be in its evidence pool. */
  checkEvidence(node: number, has: (signer: Uint8Array, h: number, r: number, t: number) => boolean): void {
    for (const [k, hashes] of this.seenVotes.get(node) ?? []) {
      if (hashes.size < 2) continue
      const [h, r, t, signer] = k.split('/') as [string, string, string, string]
      if (!has(Buffer.from(signer, 'hex'), Number(h), Number(r), Number(t))) {
        this.fail(`evidence: honest node ${node} saw an equivocation at ${k} and has no evidence of it`)
      }
    }
  }

  onEvidence(_ev: DuplicateVoteEvidence): void {
    this.evidence++
  }
}
