/** Error codes of the contracts package (offline compilation). Stable: never reuse a retired code. */
export const ContractsErrorCode = {
  COMPILE_FAILED: 'CONTRACTS_COMPILE_FAILED',
  COMPILER_MISMATCH: 'CONTRACTS_COMPILER_MISMATCH',
  /** A docs page lacks the marker lines of a contract's generated signature block (abi-docs.ts). */
  ABI_DOCS_MARKERS: 'CONTRACTS_ABI_DOCS_MARKERS',
} as const
export type ContractsErrorCode = (typeof ContractsErrorCode)[keyof typeof ContractsErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    contracts: ContractsErrorCode
  }
}
