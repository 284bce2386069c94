import t from 'tap'
import { blockIndex, blockOffset, copyBlocks, geometryProblem, geometryWithDefaults, requiredBytes, type BlockKind, type Geometry } from '../../src/disk/layout.js'

const g: Geometry = { blockSize: 512, maxNodes: 4, maxServices: 3, configBlocks: 2 }

t.test('one copy: header, status, mailbox, lease, config, scratch; the shadow follows', async (t) => {
  t.equal(copyBlocks(g), 1 + 4 + 4 + 3 + 2 + 4)
  t.equal(requiredBytes(g), 2 * 18 * 512)
  // [kind, slot, block index within the copy]
  const table: [BlockKind, number, number][] = [
    ['header', 0, 0], ['status', 1, 1], ['status', 4, 4], ['mailbox', 1, 5], ['mailbox', 4, 8],
    ['lease', 0, 9], ['lease', 2, 11], ['config', 0, 12], ['config', 1, 13], ['scratch', 1, 14], ['scratch', 4, 17],
  ]
  for (const [kind, slot, index] of table) {
    t.equal(blockIndex(g, kind, slot), index, `${kind} ${slot}`)
    t.equal(blockOffset(g, 0, kind, slot), index * 512, `${kind} ${slot} primary`)
    t.equal(blockOffset(g, 1, kind, slot), (18 + index) * 512, `${kind} ${slot} shadow`)
  }
})

t.test('slots outside their range are refused', async (t) => {
  for (const [kind, slot] of [['status', 0], ['status', 5], ['lease', 3], ['config', -1], ['scratch', 1.5], ['header', 1]] as [BlockKind, number][]) {
    t.throws(() => blockIndex(g, kind, slot), { code: 'CARB_ERR_USAGE' }, `${kind} ${slot}`)
  }
})

t.test('defaults and limits', async (t) => {
  t.same(geometryWithDefaults(), { blockSize: 4096, maxNodes: 16, maxServices: 64, configBlocks: 64 })
  t.equal(requiredBytes(geometryWithDefaults()), 2 * (1 + 48 + 64 + 64) * 4096)
  t.match(geometryProblem({ ...g, blockSize: 1024 as 512 }), /blockSize/)
  t.match(geometryProblem({ ...g, maxNodes: 65 }), /maxNodes/)
  t.match(geometryProblem({ ...g, maxServices: 0 }), /maxServices/)
  t.match(geometryProblem({ ...g, configBlocks: 2000 }), /configBlocks/)
  t.throws(() => geometryWithDefaults({ maxNodes: 0 }), { code: 'CARB_ERR_USAGE' })
})
