import t from 'tap'
import { placement, type PlacementInput, type PlacementNodeState } from '../../machines/placement.js'

type Nodes = PlacementInput['nodes']
const NOW = 100000
/** A node in this view; `upForMs` is how long it has been up (null: unknown). */
const n = (name: string, state: PlacementNodeState, upForMs: number | null = 60000): Nodes[number] => ({ name, state, upSinceMs: upForMs === null ? null : NOW - upForMs })
const allUp: Nodes = [n('a', 'self-member'), n('b', 'up'), n('c', 'up')]

function input(over: {
  service?: Partial<PlacementInput['service']>
  nodes?: Nodes
  holder?: string | null
  failedOn?: string[]
  self?: string
}): PlacementInput {
  return {
    service: { name: 'web', enabled: true, domain: ['a', 'b', 'c'], failback: false, relocateTo: null, ...over.service },
    nodes: over.nodes ?? allUp,
    lease: { holder: over.holder ?? null, failedOn: over.failedOn ?? [] },
    self: over.self ?? 'a',
    now: NOW,
    failbackStableMs: 30000,
  }
}

// [name, input, expected owner, expected reason]
type Row = [string, PlacementInput, string | null, string | RegExp]
const table: Row[] = [
  // no holder
  ['disabled: nobody', input({ service: { enabled: false }, holder: 'a' }), null, 'service disabled'],
  ['free lease: the preferred node', input({}), 'a', 'no holder: first up in domain [a,b,c] is a'],
  ['free lease, preferred node dead: the next in domain order', input({ nodes: [n('a', 'dead'), n('b', 'up'), n('c', 'up')], self: 'b' }), 'b', 'no holder: first up in domain [a,b,c] is b'],
  ['suspect, unknown and joining nodes are not up: never chosen', input({ nodes: [n('a', 'suspect'), n('b', 'unknown'), n('c', 'self-joining')], self: 'c' }), null, 'no holder: no node of domain [a,b,c] is up'],
  ['a preferred node not yet heard from: wait rather than take the free lease', input({ nodes: [n('a', 'unknown'), n('b', 'self-member'), n('c', 'up')], self: 'b' }), null, 'no holder: waiting to learn whether a (unknown), before b in domain [a,b,c], is up'],
  ['a suspect preferred node: wait rather than take the free lease (a node whose reads run late suspects everyone)', input({ nodes: [n('a', 'suspect'), n('b', 'self-member'), n('c', 'up')], self: 'b' }), null, 'no holder: waiting to learn whether a (suspect), before b in domain [a,b,c], is up'],
  ['an unknown node after the first up one does not delay it', input({ nodes: [n('a', 'self-member'), n('b', 'unknown'), n('c', 'unknown')] }), 'a', 'no holder: first up in domain [a,b,c] is a'],
  ['an unknown node that failed the service does not delay the next', input({ nodes: [n('a', 'unknown'), n('b', 'self-member'), n('c', 'up')], failedOn: ['a'], self: 'b' }), 'b', 'no holder: first up in domain [a,b,c] is b'],
  ['holder gone, preferred node unknown: wait for it too', input({ holder: 'c', nodes: [n('a', 'unknown'), n('b', 'self-member'), n('c', 'dead')], self: 'b' }), null, 'holder c dead: waiting to learn whether a (unknown), before b in domain [a,b,c], is up'],
  ['nodes outside the domain are never chosen', input({ service: { domain: ['a', 'b'] }, nodes: [n('a', 'dead'), n('b', 'left'), n('c', 'self-member')], self: 'c' }), null, 'no holder: no node of domain [a,b] is up'],
  ['a node that failed the service is avoided', input({ failedOn: ['a'] }), 'b', 'no holder: first up in domain [a,b,c] is b'],
  ['every domain node failed it: failedOn is ignored, retry beats down', input({ failedOn: ['a', 'b', 'c'] }), 'a', /first up in domain \[a,b,c\] is a \(it failed there before, failedOn \[a,b,c\] ignored: no other node is up\)/],
  ['the only nodes up failed it: failedOn is ignored', input({ nodes: [n('a', 'self-member'), n('b', 'up'), n('c', 'dead')], failedOn: ['a', 'b'] }), 'a', /failedOn \[a,b\] ignored/],
  // holder gone
  ['holder a dead: first up in domain is b', input({ holder: 'a', nodes: [n('a', 'dead'), n('b', 'self-member'), n('c', 'up')], self: 'b' }), 'b', 'holder a dead: first up in domain [a,b,c] is b'],
  ['holder left cleanly: taken over at once', input({ holder: 'a', nodes: [n('a', 'left'), n('b', 'up'), n('c', 'up')] }), 'b', 'holder a left: first up in domain [a,b,c] is b'],
  ['holder out (self-fenced): taken over', input({ holder: 'a', nodes: [n('a', 'out'), n('b', 'up'), n('c', 'up')] }), 'b', 'holder a out: first up in domain [a,b,c] is b'],
  ['holder is this node, self-out: another node', input({ holder: 'a', nodes: [n('a', 'self-out'), n('b', 'up'), n('c', 'up')] }), 'b', 'holder a out: first up in domain [a,b,c] is b'],
  ['holder gone and it failed there: not chosen again', input({ holder: 'b', nodes: [n('a', 'dead'), n('b', 'dead'), n('c', 'self-member')], failedOn: ['b'], self: 'c' }), 'c', 'holder b dead: first up in domain [a,b,c] is c'],
  ['holder gone, nobody up: no owner', input({ holder: 'a', nodes: [n('a', 'dead'), n('b', 'dead'), n('c', 'out')] }), null, 'holder a dead: no node of domain [a,b,c] is up'],
  // holder possibly alive
  ['holder b is up: it stays', input({ holder: 'b' }), 'b', 'holder b is up'],
  ['holder suspect: no takeover on suspicion', input({ holder: 'b', nodes: [n('a', 'self-member'), n('b', 'suspect'), n('c', 'up')] }), 'b', 'holder b is suspect: no move on suspicion'],
  ['holder unknown (not yet seen): it stays', input({ holder: 'b', nodes: [n('a', 'self-member'), n('c', 'up')] }), 'b', 'holder b is unknown'],
  ['holder is this node, joining: it stays', input({ holder: 'a', nodes: [n('a', 'self-joining'), n('b', 'up')] }), 'a', 'holder a is self-joining'],
  ['holder is this node and member: it stays', input({ holder: 'a' }), 'a', 'holder a is up'],
  ['holder in failedOn but alive: it stays until it releases', input({ holder: 'a', failedOn: ['a'] }), 'a', 'holder a is up'],
  // manual relocation
  ['relocation to an up domain node moves a live holder', input({ holder: 'a', service: { relocateTo: 'c' } }), 'c', 'relocation to c requested and c is up'],
  ['relocation target reached: it stays (standing preference, no failback)', input({ holder: 'c', service: { relocateTo: 'c', failback: true } }), 'c', 'holder c is the relocation target'],
  ['relocation never moves a suspect holder', input({ holder: 'a', service: { relocateTo: 'c' }, nodes: [n('a', 'suspect'), n('b', 'up'), n('c', 'up')] }), 'a', 'holder a is suspect: no move on suspicion'],
  ['relocation to a down node: the holder stays', input({ holder: 'a', service: { relocateTo: 'c' }, nodes: [n('a', 'self-member'), n('b', 'up'), n('c', 'dead')] }), 'a', 'holder a is up'],
  ['relocation outside the domain is ignored', input({ holder: 'a', service: { relocateTo: 'd' }, nodes: [...allUp, n('d', 'up')] }), 'a', 'holder a is up'],
  ['relocation to a node that failed it is ignored while the holder lives', input({ holder: 'a', service: { relocateTo: 'c' }, failedOn: ['c'] }), 'a', 'holder a is up'],
  ['relocation target chosen when there is no holder', input({ service: { relocateTo: 'c' } }), 'c', 'no holder: relocation target c is up'],
  ['relocation target down, no holder: domain order', input({ service: { relocateTo: 'c' }, nodes: [n('a', 'self-member'), n('b', 'up'), n('c', 'dead')] }), 'a', 'no holder: first up in domain [a,b,c] is a'],
  ['relocation target failed it, no holder: domain order', input({ service: { relocateTo: 'c' }, failedOn: ['c'] }), 'a', 'no holder: first up in domain [a,b,c] is a'],
  // failback
  ['failback: a is preferred and up for 30 s', input({ holder: 'b', service: { failback: true }, nodes: [n('a', 'self-member', 30000), n('b', 'up'), n('c', 'up')] }), 'a', 'a is preferred and up for 30 s: failback'],
  ['failback waits until the preferred node is stable', input({ holder: 'b', service: { failback: true }, nodes: [n('a', 'self-member', 29999), n('b', 'up'), n('c', 'up')] }), 'b', 'holder b is up'],
  ['failback needs a known up-since time', input({ holder: 'b', service: { failback: true }, nodes: [n('a', 'up', null), n('b', 'up'), n('c', 'up')] }), 'b', 'holder b is up'],
  ['failback to the best stable node ranking before the holder', input({ holder: 'c', service: { failback: true }, nodes: [n('a', 'up', 1000), n('b', 'self-member', 40000), n('c', 'up')], self: 'b' }), 'b', 'b is preferred and up for 40 s: failback'],
  ['failback skips a node that failed the service', input({ holder: 'b', service: { failback: true }, failedOn: ['a'] }), 'b', 'holder b is up'],
  ['no failback when off: the holder stays', input({ holder: 'b' }), 'b', 'holder b is up'],
  ['no failback away from a suspect holder', input({ holder: 'b', service: { failback: true }, nodes: [n('a', 'self-member'), n('b', 'suspect'), n('c', 'up')] }), 'b', 'holder b is suspect: no move on suspicion'],
  ['failback to the domain from a holder outside it', input({ holder: 'd', service: { failback: true, domain: ['a', 'b'] }, nodes: [...allUp, n('d', 'up')] }), 'a', 'a is preferred and up for 60 s: failback'],
]

for (const [name, i, owner, reason] of table) {
  t.test(name, async (t) => {
    const p = placement(i)
    t.equal(p.owner, owner)
    if (typeof reason === 'string') t.equal(p.reason, reason)
    else t.match(p.reason, reason)
  })
}

t.test('active-standby: one service, a preferred, b standby, failback on', async (t) => {
  const svc = { name: 'web', enabled: true, domain: ['a', 'b'], failback: true, relocateTo: null }
  const at = (nodes: Nodes, holder: string | null, now = NOW) => placement({ service: svc, nodes, lease: { holder, failedOn: [] }, self: 'b', now, failbackStableMs: 30000 }).owner
  t.equal(at([n('a', 'up'), n('b', 'self-member')], null), 'a', 'both up: a')
  t.equal(at([n('a', 'suspect'), n('b', 'self-member')], 'a'), 'a', 'a suspect: stays on a')
  t.equal(at([n('a', 'dead'), n('b', 'self-member')], 'a'), 'b', 'a dead: b takes over')
  t.equal(at([n('a', 'up', 5000), n('b', 'self-member')], 'b'), 'b', 'a back for 5 s: stays on b')
  t.equal(at([n('a', 'up', 30000), n('b', 'self-member')], 'b'), 'a', 'a back for 30 s: failback to a')
})

t.test('active-active: two services, each preferring its own node', async (t) => {
  const view = (nodes: Nodes, holders: Record<string, string | null>) => ({
    web: placement({ service: { name: 'web', enabled: true, domain: ['a', 'b'], failback: true }, nodes, lease: { holder: holders.web ?? null, failedOn: [] }, self: 'a', now: NOW, failbackStableMs: 30000 }).owner,
    db: placement({ service: { name: 'db', enabled: true, domain: ['b', 'a'], failback: true }, nodes, lease: { holder: holders.db ?? null, failedOn: [] }, self: 'a', now: NOW, failbackStableMs: 30000 }).owner,
  })
  t.same(view([n('a', 'self-member'), n('b', 'up')], {}), { web: 'a', db: 'b' }, 'both up: one service each')
  t.same(view([n('a', 'self-member'), n('b', 'dead')], { web: 'a', db: 'b' }), { web: 'a', db: 'a' }, 'b dead: a runs both')
  t.same(view([n('a', 'self-member'), n('b', 'up', 40000)], { web: 'a', db: 'a' }), { web: 'a', db: 'b' }, 'b back and stable: db fails back to b')
})

t.test('duplicate names are read once, first entry wins', async (t) => {
  const p = placement(input({ service: { domain: ['b', 'b', 'a'] }, nodes: [n('b', 'dead'), n('b', 'up'), n('a', 'self-member')] }))
  t.same(p, { owner: 'a', reason: 'no holder: first up in domain [b,a] is a' })
})
