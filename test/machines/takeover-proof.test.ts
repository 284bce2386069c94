/** The takeover rule (machines/takeover-proof.ts), row by row: which proof allows a takeover, and why a wait. */
import t from 'tap'
import { describeProof, takeoverProof, type HolderView, type ProofInput } from '../../machines/takeover-proof.js'

const holder = (over: Partial<HolderView> = {}): HolderView => ({ nodeId: 2, name: 'b', state: 'dead', incarnation: 4, silentPastDeadline: true, diskSilentMs: 10_500, fenceable: false, ...over })
const input = (over: Partial<ProofInput> = {}): ProofInput => ({ self: 1, lease: { holder: 2, incarnation: 4 }, holder: holder(), fenced: [], diskDeadAfterMs: 10_000, ...over })

type Row = [string, ProofInput, string]
const rows: Row[] = [
  ['a free lease', input({ lease: { holder: 0, incarnation: 0 } }), 'free'],
  ['our own lease (an older incarnation of this node)', input({ lease: { holder: 1, incarnation: 2 } }), 'own'],
  ['holder left cleanly as the holding incarnation', input({ holder: holder({ state: 'left' }) }), 'left-cleanly'],
  ['holder "left" as an older incarnation than the lease names: not proof', input({ holder: holder({ state: 'left', incarnation: 3, silentPastDeadline: false }) }), 'wait:newer than the incarnation 3 this node has read'],
  ['dead and silent past the deadline as an older incarnation than the lease names (it restarted and took the lease since the last read): no proof', input({ holder: holder({ incarnation: 3 }) }), 'wait:the lease names b incarnation 4, newer than the incarnation 3'],
  ['a lease naming an incarnation of a holder never read on the disk: no proof', input({ holder: holder({ incarnation: null }) }), 'wait:newer than the none'],
  ['holder restarted and writes the disk as a newer incarnation', input({ holder: holder({ state: 'up', incarnation: 5, silentPastDeadline: false }) }), 'restarted'],
  ['holder up as the same incarnation', input({ holder: holder({ state: 'up', silentPastDeadline: false }) }), 'wait:up, not proven gone'],
  ['holder suspect', input({ holder: holder({ state: 'suspect', silentPastDeadline: false }) }), 'wait:suspect, not proven gone'],
  ['no fence method, silent past the deadline', input(), 'self-fence-deadline'],
  ['no fence method, reports itself out but still writes', input({ holder: holder({ silentPastDeadline: false }) }), 'wait:reports itself out'],
  ['fence method configured: dead is not enough', input({ holder: holder({ fenceable: true }) }), 'wait:waiting for it to be fenced!'],
  ['fence method configured and fenced as that incarnation', input({ holder: holder({ fenceable: true }), fenced: [{ incarnation: 4, method: 'fence_ipmilan', detail: 'off' }] }), 'fenced'],
  ['fenced as a later incarnation covers the lease', input({ holder: holder({ fenceable: true }), fenced: [{ incarnation: 6, method: 'poison-pill', detail: 'msgwait' }] }), 'fenced'],
  ['fenced as an older incarnation does not cover the lease', input({ holder: holder({ fenceable: true }), fenced: [{ incarnation: 3, method: 'fence_ipmilan', detail: 'off' }] }), 'wait:waiting for it to be fenced!'],
  ['manual acknowledgement of an unknown incarnation covers a holder never seen', input({ holder: holder({ fenceable: true, incarnation: null }), fenced: [{ incarnation: null, method: 'manual-ack', detail: 'ack by root' }] }), 'fenced'],
  ['an acknowledgement of an unknown incarnation never covers an incarnation seen since', input({ holder: holder({ fenceable: true }), fenced: [{ incarnation: null, method: 'manual-ack', detail: 'ack by root' }] }), 'wait:waiting for it to be fenced!'],
  ['a fence record also proves a node with no topology (carbonado fence ack)', input({ holder: holder({ silentPastDeadline: false }), fenced: [{ incarnation: 4, method: 'manual-ack', detail: 'ack by root' }] }), 'fenced'],
  ['holder not in the cluster file', input({ holder: null }), 'wait:not in the cluster file'],
  ['fenced, but up as the same incarnation: the fence proves nothing', input({ holder: holder({ state: 'up', fenceable: true, silentPastDeadline: false }), fenced: [{ incarnation: 4, method: 'fence_apc', detail: 'off' }] }), 'wait:reported fenced by fence_apc but is up as incarnation 4'],
  ['fenced, and suspect: the fence counts', input({ holder: holder({ state: 'suspect', fenceable: true, silentPastDeadline: false }), fenced: [{ incarnation: 4, method: 'fence_apc', detail: 'off' }] }), 'fenced'],
  ['no fence method, silent past the deadline, but its block is unreadable: no proof', input({ holder: holder({ diskUnreadable: true }) }), 'wait:status block is unreadable'],
]

for (const [name, given, expected] of rows) {
  t.test(name, async (t) => {
    const verdict = takeoverProof(given)
    if (expected.startsWith('wait:')) {
      t.equal(verdict.ok, false, 'no takeover')
      if (!verdict.ok) {
        t.match(verdict.reason, expected.slice(5).replace(/!$/, ''))
        t.equal(verdict.needsFencing, expected.endsWith('!'), 'asks for fencing only when fencing is the missing proof')
      }
    } else {
      t.equal(verdict.ok, true, 'takeover allowed')
      if (verdict.ok) {
        t.equal(verdict.proof.kind, expected)
        t.ok(describeProof(verdict.proof).length > 10, describeProof(verdict.proof))
      }
    }
  })
}

t.test('the newest covering fence record is the proof named', async (t) => {
  const verdict = takeoverProof(input({ holder: holder({ fenceable: true }), fenced: [{ incarnation: 4, method: 'first', detail: '' }, { incarnation: 5, method: 'second', detail: '' }] }))
  t.match(verdict, { ok: true, proof: { kind: 'fenced', method: 'second', incarnation: 5 } })
})
