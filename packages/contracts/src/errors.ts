/** Error codes of the contracts package (offline compilation). Stable: never reuse a retired code. */
export const ContractsErrorCode = {
  COMPILE_FAILED: 'CONTRACTS_COMPILE_FAILED',
  COMPILER_MISMATCH: 'CONTRACTS_COMPILER_MISMATCH',
} as const
export type ContractsErrorCode = (typeof ContractsErrorCode)[keyof typeof ContractsErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    contracts: ContractsErrorCode
  }
}
