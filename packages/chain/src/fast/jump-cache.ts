import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import * as evmModule from '@ethereumjs/evm'

interface Analysis {
  jumps: Uint8Array
  pushes: Record<number, bigint>
  opcodesCached: unknown[]
}
interface InterpreterProto {
  _getValidJumpDestinations(this: { _evm: { _opcodeMap: object } }, code: Uint8Array): Analysis
}

let installed: Promise<boolean> | undefined
/** EVMs of chains in reference mode (`reference: true`): they analyse every run, as published. */
const referenceEvms = new WeakSet<object>()

/** Makes `evm` analyse jump destinations as @ethereumjs does, cache or not (reference mode). */
export function useReferenceAnalysis(evm: object): void {
  referenceEvms.add(evm)
}

/**
 * Remembers @ethereumjs/evm's jump-destination analysis per contract code. The interpreter scans
 * the whole code of a contract — an opcode lookup per byte and a BigInt per PUSH — every time a
 * message runs it, before the first jump: for an ERC-20 `balanceOf` that was ~15% of an
 * `eth_call`. The analysis depends only on the code bytes and the EVM's opcode table, and the
 * interpreter only reads it, so it is kept per code object (the state caches hand out the same
 * bytes for the same account) and per opcode table (one per EVM and ruleset), and dropped with
 * either.
 *
 * `Interpreter` is exported by this repository's patch of @ethereumjs/evm (patches/), so the class
 * changed is the one the EVM runs, also inside the `cairn start` bundle (dist/start.js), which holds
 * its own copy of the EVM: loading interpreter.js by file there patched the node_modules copy, which
 * the bundle never runs. Without the patch, the module is loaded by file next to the package's
 * entry point (the same instance when not bundled). Where neither is there (another version),
 * nothing is changed and the EVM analyses as before. Resolves to whether the cache is in place.
 */
export function installJumpDestCache(): Promise<boolean> {
  installed ??= install()
  return installed
}

async function install(): Promise<boolean> {
  try {
    const exported = evmModule as { Interpreter?: { prototype: InterpreterProto } }
    const mod = exported.Interpreter ? exported : await byFile()
    const proto = mod?.Interpreter?.prototype
    if (!proto || typeof proto._getValidJumpDestinations !== 'function') return false
    const analyse = proto._getValidJumpDestinations
    const byCode = new WeakMap<Uint8Array, WeakMap<object, Analysis>>()
    proto._getValidJumpDestinations = function (code) {
      if (referenceEvms.has(this._evm)) return analyse.call(this, code)
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

/** The interpreter module loaded by file beside the package's entry point (an unpatched @ethereumjs/evm). */
async function byFile(): Promise<{ Interpreter?: { prototype: InterpreterProto } } | undefined> {
  const entry = createRequire(import.meta.url).resolve('@ethereumjs/evm')
  const file = entry.replace(/[\\/]cjs[\\/]index\.js$/, '/esm/interpreter.js')
  if (file === entry) return undefined
  return (await import(pathToFileURL(file).href)) as { Interpreter?: { prototype: InterpreterProto } }
}
