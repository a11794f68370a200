import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

interface Analysis {
  jumps: Uint8Array
  pushes: Record<number, bigint>
  opcodesCached: unknown[]
}
interface InterpreterProto {
  _getValidJumpDestinations(this: { _evm: { _opcodeMap: object } }, code: Uint8Array): Analysis
}

let installed: Promise<boolean> | undefined

/**
 * Remembers @ethereumjs/evm's jump-destination analysis per contract code. The interpreter scans
 * the whole code of a contract — an opcode lookup per byte and a BigInt per PUSH — every time a
 * message runs it, before the first jump: for an ERC-20 `balanceOf` that was ~15% of an
 * `eth_call`. The analysis depends only on the code bytes and the EVM's opcode table, and the
 * interpreter only reads it, so it is kept per code object (the state caches hand out the same
 * bytes for the same account) and per opcode table (one per EVM and ruleset), and dropped with
 * either.
 *
 * `Interpreter` is not exported by @ethereumjs/evm: its module is loaded by file next to the
 * package's entry point (the same module instance the EVM uses). Where that file or the method is
 * not there (another version), nothing is changed and the EVM analyses as before. Resolves to
 * whether the cache is in place.
 */
export function installJumpDestCache(): Promise<boolean> {
  installed ??= install()
  return installed
}

async function install(): Promise<boolean> {
  try {
    const entry = createRequire(import.meta.url).resolve('@ethereumjs/evm')
    const file = entry.replace(/[\\/]cjs[\\/]index\.js$/, '/esm/interpreter.js')
    if (file === entry) return false
    const mod = (await import(pathToFileURL(file).href)) as { Interpreter?: { prototype: InterpreterProto } }
    const proto = mod.Interpreter?.prototype
    if (!proto || typeof proto._getValidJumpDestinations !== 'function') return false
    const analyse = proto._getValidJumpDestinations
    const byCode = new WeakMap<Uint8Array, WeakMap<object, Analysis>>()
    proto._getValidJumpDestinations = function (code) {
      const table = this._evm._opcodeMap
      let byTable = byCode.get(code)
      let analysis = byTable?.get(table)
      if (analysis === undefined) {
        analysis = analyse.call(this, code)
        if (byTable === undefined) {
          byTable = new WeakMap()
          byCode.set(code, byTable)
        }
        byTable.set(table, analysis)
      }
      return analysis
    }
    return true
  } catch {
    return false
  }
}
