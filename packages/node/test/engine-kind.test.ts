// The engine a node runs comes from its genesis (config.cairn.bft ⇒ bft); a configured engine
// that contradicts the genesis is refused with a message saying so.
import { CairnError } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { engineKind } from '../src/engine.ts'

const bftGenesis = { config: { chainId: 1337, cairn: { bft: { validators: [] } } } }
const devGenesis = { config: { chainId: 1337 } }

describe('engineKind', () => {
  it('unset: bft for a genesis with config.cairn.bft, dev otherwise (or with no genesis)', () => {
    expect(engineKind(undefined, bftGenesis)).toBe('bft')
    expect(engineKind(undefined, devGenesis)).toBe('dev')
    expect(engineKind(undefined, undefined)).toBe('dev')
  })

  it('a proof-of-work genesis that hands over to BFT (pow.transition): pow first; without the entry, bft', () => {
    const pow = { powLimit: '0x207fffff' }
    const both = (transition?: unknown) => ({
      config: {
        chainId: 1337,
        cairn: { bft: { validators: [] }, pow: { ...pow, ...(transition ? { transition } : {}) } },
      },
    })
    expect(engineKind(undefined, both({ height: 10, engine: 'bft' }))).toBe('pow')
    expect(engineKind('pow', both({ height: 10, engine: 'bft' }))).toBe('pow')
    expect(engineKind(undefined, both())).toBe('bft')
  })

  it('set and agreeing with the genesis: as set', () => {
    expect(engineKind('bft', bftGenesis)).toBe('bft')
    expect(engineKind('dev', devGenesis)).toBe('dev')
  })

  it('engine = dev on a BFT genesis: refused, naming the mismatch and the fix', () => {
    let err: unknown
    try {
      engineKind('dev', bftGenesis)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CairnError)
    expect((err as CairnError).code).toBe('NODE_ENGINE_MISMATCH')
    expect((err as CairnError).message).toMatch(/engine = dev.*config\.cairn\.bft/)
    expect((err as CairnError).hint).toMatch(/comes from the genesis/)
  })

  it('engine = bft on a genesis without validators: refused', () => {
    expect(() => engineKind('bft', devGenesis)).toThrow(/no config\.cairn\.bft/)
  })
})
