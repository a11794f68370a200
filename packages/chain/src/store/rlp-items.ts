/** Length of the RLP item starting at `buf[0]`, or undefined when `buf` is too short to tell. */
export function rlpItemLength(buf: Uint8Array): number | undefined {
  if (buf.length === 0) return undefined
  const b = buf[0] as number
  if (b < 0x80) return 1
  if (b <= 0xb7) return 1 + b - 0x80
  if (b < 0xc0) return readLong(buf, b - 0xb7)
  if (b <= 0xf7) return 1 + b - 0xc0
  return readLong(buf, b - 0xf7)
}

function readLong(buf: Uint8Array, lenOfLen: number): number | undefined {
  if (buf.length < 1 + lenOfLen) return undefined
  let len = 0
  for (let i = 1; i <= lenOfLen; i++) len = len * 256 + (buf[i] as number)
  return 1 + lenOfLen + len
}

/** Bytes of the length prefix of the (well-formed) RLP list starting at `buf[0]`. */
export function rlpListPrefixLength(buf: Uint8Array): number {
  const first = buf[0] as number
  return first <= 0xf7 ? 1 : 1 + (first - 0xf7)
}

/** Where the items of the RLP list at `list[0]` start and end; undefined when `list` is not a whole list. */
function listBounds(list: Uint8Array): { from: number; total: number } | undefined {
  const total = rlpItemLength(list)
  if (total === undefined || total > list.length || (list[0] as number) < 0xc0) return undefined
  return { from: rlpListPrefixLength(list), total }
}

/**
 * How many items the RLP list at `list[0]` holds, counted from their length prefixes without
 * decoding them. Undefined when `list` is not a whole list (a stored body that is damaged).
 */
export function rlpListCount(list: Uint8Array): number | undefined {
  const bounds = listBounds(list)
  if (bounds === undefined) return undefined
  const { total } = bounds
  let count = 0
  for (let at = bounds.from; at < total; count++) {
    const item = rlpItemLength(list.subarray(at, total))
    if (item === undefined) return undefined
    at += item
    if (at > total) return undefined
  }
  return count
}

/** The first item of the RLP list at `list[0]` (a block body's transactions), undefined when there is none. */
export function rlpFirstItem(list: Uint8Array): Uint8Array | undefined {
  const bounds = listBounds(list)
  if (bounds === undefined) return undefined
  const { from, total } = bounds
  const item = from < total ? rlpItemLength(list.subarray(from, total)) : undefined
  return item === undefined || from + item > total ? undefined : list.subarray(from, from + item)
}
