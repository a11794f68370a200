// The machine's speed at the one piece of a transfer's work that is fixed: recovering a signature's
// public key with libsecp256k1 (Cairn's recovery workers do one per transaction; Anvil's Rust
// libsecp256k1 binding does the same). Printed beside the transfer figures, it says how fast the
// machine was while they ran: the ratio to Anvil moved between machines whose recovery took 45 and
// 70 µs (docs/performance-history.md, eighteenth and nineteenth sessions).
import { ecdsaRecover, ecdsaSign, keccak256, privateKeyToPublicKey } from '@cairn/crypto'
import { equalsBytes } from '@cairn/utils'

/** What {@link recoveryMicros} measured: µs per recovery in each of its timed batches. */
export type RecoveryFigure = { median: number; min: number; max: number }

/**
 * Times `batches` batches of `perBatch` recoveries (after one untimed batch) over 64 checked signatures of
 * distinct keys and messages, on this thread. The median batch is the figure; min and max show the
 * machine's spread while it ran.
 */
export function recoveryMicros(batches = 5, perBatch = 400): RecoveryFigure {
  const sigs = Array.from({ length: 64 }, (_, i) => {
    const key = new Uint8Array(32)
    key[0] = 0x11
    key[31] = i + 1
    const msg = keccak256(Uint8Array.of(i, 0x63, 0x61, 0x69, 0x72, 0x6e))
    const s = ecdsaSign(msg, key)
    const rs = new Uint8Array(64)
    rs.set(s.r, 0)
    rs.set(s.s, 32)
    return { rs, recovery: s.recovery, msg, pub: privateKeyToPublicKey(key) }
  })
  // What is timed must be a recovery that succeeds: each signature gives back its signer's key.
  for (const s of sigs) {
    if (!equalsBytes(ecdsaRecover(s.rs, s.recovery, s.msg), s.pub))
      throw new Error('secp256k1 recovery gave another key')
  }
  const batch = () => {
    const t0 = performance.now()
    for (let i = 0; i < perBatch; i++) {
      const s = sigs[i % sigs.length] as (typeof sigs)[number]
      ecdsaRecover(s.rs, s.recovery, s.msg)
    }
    return ((performance.now() - t0) * 1000) / perBatch
  }
  batch()
  const times = Array.from({ length: batches }, batch).sort((a, b) => a - b)
  return {
    median: times[Math.floor(times.length / 2)] as number,
    min: times[0] as number,
    max: times[times.length - 1] as number,
  }
}

/** One line for the bench's header, e.g. "secp256k1 recovery 70.2 µs a signature (68.9–74.0)". */
export function formatRecovery(label: string, f: RecoveryFigure): string {
  return `${label} ${f.median.toFixed(1)} µs a signature (${f.min.toFixed(1)}–${f.max.toFixed(1)})`
}
