declare module 'snappyjs' {
  /** Snappy block compression (the raw format, no framing). */
  export function compress(input: Uint8Array): Uint8Array
  /** Decompresses; throws when the declared length exceeds `maxLength`. */
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array
}
