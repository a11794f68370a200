import { keccak256 } from '@cairn/crypto'
import { CairnError, concatBytes, hexToBytes, uintToBytes } from '@cairn/utils'
import { RpcErrorCode } from './errors.ts'

/** EIP-712 typed structured data, as eth_signTypedData_v4 receives it. */
export interface TypedData {
  types: Record<string, { name: string; type: string }[]>
  primaryType: string
  domain: Record<string, unknown>
  message: Record<string, unknown>
}

const DOMAIN_FIELDS: [string, string][] = [
  ['name', 'string'],
  ['version', 'string'],
  ['chainId', 'uint256'],
  ['verifyingContract', 'address'],
  ['salt', 'bytes32'],
]

function bad(message: string): CairnError {
  return new CairnError(RpcErrorCode.INVALID_PARAMS, `invalid argument 1: ${message}`, {
    fault: 'caller',
    hint: 'send EIP-712 typed data: {types, primaryType, domain, message}',
  })
}

/** The struct types `primary` refers to (itself first, the rest sorted), as encodeType orders them. */
function dependencies(primary: string, types: TypedData['types'], found = new Set<string>()): Set<string> {
  if (found.has(primary) || !types[primary]) return found
  found.add(primary)
  for (const field of types[primary]) dependencies(baseType(field.type), types, found)
  return found
}

function baseType(type: string): string {
  const i = type.indexOf('[')
  return i === -1 ? type : type.slice(0, i)
}

/** `Mail(Person from,Person to,string contents)Person(string name,address wallet)`. */
export function encodeType(primary: string, types: TypedData['types']): string {
  const [first, ...rest] = [...dependencies(primary, types)]
  return [first as string, ...rest.sort()]
    .map((name) => `${name}(${(types[name] ?? []).map((f) => `${f.type} ${f.name}`).join(',')})`)
    .join('')
}

export function typeHash(primary: string, types: TypedData['types']): Uint8Array {
  return keccak256(new TextEncoder().encode(encodeType(primary, types)))
}

/** keccak256(typeHash ‖ encodeData) of one struct value. */
export function hashStruct(primary: string, value: Record<string, unknown>, types: TypedData['types']): Uint8Array {
  const fields = types[primary]
  if (!fields) throw bad(`unknown type ${primary}`)
  const parts = [typeHash(primary, types)]
  for (const f of fields) parts.push(encodeValue(f.type, value[f.name], types, `${primary}.${f.name}`))
  return keccak256(concatBytes(...parts))
}

function toBigInt(v: unknown, where: string): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|-?[0-9]+)$/.test(v)) return BigInt(v)
  throw bad(`${where}: expected an integer, got ${JSON.stringify(v)}`)
}

function toBytes(v: unknown, where: string): Uint8Array {
  if (typeof v === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(v)) return hexToBytes(v)
  throw bad(`${where}: expected 0x-prefixed hex bytes, got ${JSON.stringify(v)}`)
}

/** One field's 32-byte encoding (encodeData of EIP-712). */
function encodeValue(type: string, v: unknown, types: TypedData['types'], where: string): Uint8Array {
  if (type.endsWith(']')) {
    const inner = type.slice(0, type.lastIndexOf('['))
    const len = type.slice(type.lastIndexOf('[') + 1, -1)
    if (!Array.isArray(v)) throw bad(`${where}: expected an array`)
    if (len !== '' && v.length !== Number(len)) throw bad(`${where}: expected ${len} items, got ${v.length}`)
    return keccak256(concatBytes(...v.map((item, i) => encodeValue(inner, item, types, `${where}[${i}]`))))
  }
  if (types[type]) {
    if (typeof v !== 'object' || v === null) throw bad(`${where}: expected a ${type} object`)
    return hashStruct(type, v as Record<string, unknown>, types)
  }
  if (type === 'string') {
    if (typeof v !== 'string') throw bad(`${where}: expected a string`)
    return keccak256(new TextEncoder().encode(v))
  }
  if (type === 'bytes') return keccak256(toBytes(v, where))
  if (type === 'bool') {
    if (typeof v !== 'boolean') throw bad(`${where}: expected a boolean`)
    return uintToBytes(v ? 1 : 0, 32)
  }
  if (type === 'address') {
    const b = toBytes(v, where)
    if (b.length !== 20) throw bad(`${where}: expected a 20-byte address`)
    return concatBytes(new Uint8Array(12), b)
  }
  const bytesN = /^bytes([0-9]+)$/.exec(type)
  if (bytesN) {
    const n = Number(bytesN[1])
    const b = toBytes(v, where)
    if (n < 1 || n > 32 || b.length > n) throw bad(`${where}: expected at most ${n} bytes`)
    const out = new Uint8Array(32)
    out.set(b)
    return out
  }
  const int = /^(u?)int([0-9]*)$/.exec(type)
  if (int) {
    const bits = BigInt(int[2] || '256')
    let n = toBigInt(v, where)
    const unsigned = int[1] === 'u'
    const min = unsigned ? 0n : -(2n ** (bits - 1n))
    const max = unsigned ? 2n ** bits - 1n : 2n ** (bits - 1n) - 1n
    if (n < min || n > max) throw bad(`${where}: ${n} does not fit ${type}`)
    if (n < 0n) n += 2n ** 256n
    return uintToBytes(n, 32)
  }
  throw bad(`${where}: unsupported type ${type}`)
}

/** The digest eth_signTypedData_v4 signs: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)). */
export function hashTypedData(data: TypedData): Uint8Array {
  const types = { ...data.types }
  if (!types.EIP712Domain) {
    types.EIP712Domain = DOMAIN_FIELDS.filter(([name]) => data.domain[name] !== undefined).map(([name, type]) => ({
      name,
      type,
    }))
  }
  const parts = [Uint8Array.of(0x19, 0x01), hashStruct('EIP712Domain', data.domain, types)]
  if (data.primaryType !== 'EIP712Domain') parts.push(hashStruct(data.primaryType, data.message, types))
  return keccak256(concatBytes(...parts))
}
