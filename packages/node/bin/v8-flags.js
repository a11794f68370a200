// V8 settings of a Cairn process, made before anything else is loaded (bin/cairn.js imports this
// first). V8 reads them as it allocates and collects, so setting them at run time works as long as
// nothing has been allocated under the old value yet; Node keeps V8's flags writable for this
// (`v8.setFlagsFromString`).
//
// --no-allocation-site-pretenuring: V8 allocates objects straight into the old generation from an
// allocation site whose objects survived young-generation collections while it was watching
// (module loading at start, a batch of transactions held in the pool). Such a decision outlives
// the phase that made it: a node answering reads afterwards put the short-lived objects of every
// request (parsed params, results) into the old generation, ~230 bytes a request, which grew by
// ~0.9 MB every scavenge until a full collection; each scavenge took 1.1 ms instead of 0.3 ms
// (docs/performance-history.md, sixteenth session). Without it every object starts young and only what
// lives is promoted.
import { setFlagsFromString } from 'node:v8'

setFlagsFromString('--no-allocation-site-pretenuring')
