/**
 * Inputs of the visualizer tests (test/web/): a test-only machine with what today's flat
 * machines lack (nesting, a parallel state, `after` delays, final states), and a small
 * explanation built by hand.
 */
import { setup } from 'xstate'

export const nestedMachine = setup({
  types: {} as { events: { type: 'GO' } | { type: 'FAIL' } | { type: 'NEXT' } | { type: 'DONE' } | { type: 'RESET' } },
  guards: { healthy: () => true, 'odd <name> & "quoted"': () => true },
  actions: { log: () => undefined, notify: () => undefined },
  delays: { retryDelay: 3000 },
}).createMachine({
  id: 'nested',
  initial: 'idle',
  on: { RESET: { target: '.idle', actions: 'log' } },
  states: {
    idle: { on: { GO: { target: 'running', guard: 'healthy', actions: ['log'] } } },
    running: {
      initial: 'starting',
      on: { FAIL: 'failed' },
      states: {
        starting: { after: { 1000: 'monitoring' }, on: { NEXT: 'monitoring' } },
        monitoring: { on: { NEXT: { guard: 'odd <name> & "quoted"', target: 'starting', reenter: true } } },
      },
    },
    failed: {
      type: 'parallel',
      states: {
        cleanup: { initial: 'stopping', states: { stopping: { on: { NEXT: 'stopped' } }, stopped: { type: 'final' } } },
        alarm: { initial: 'ringing', states: { ringing: { after: { retryDelay: 'quiet' } }, quiet: { always: { target: 'ringing', guard: 'healthy' } } } },
      },
      on: { DONE: 'done' },
    },
    done: { type: 'final' },
  },
})

import type { ExplainedMachine } from '../../journal/explain.js'
import type { VizDecision, VizExplanation } from '../../src/web/explanation.js'

const WALL_MS = Date.UTC(2026, 10, 25, 5, 10, 0)

function machine(node: string, incarnation: number, id: string, type: string, subject: string, initial: unknown, atMs: number): ExplainedMachine {
  return { node, incarnation, machine: id, type, subject, createdAtMs: atMs, createdWallMs: WALL_MS + atMs, initial }
}

function decision(node: string, machineId: string, type: string, subject: string, from: unknown, to: unknown, event: string, atMs: number, evidence: string[]): VizDecision {
  return {
    node, incarnation: 1, seq: atMs, atMs, wallMs: WALL_MS + atMs, hlc: null, machine: machineId, type, subject, from, to, event,
    effects: [{ type: 'effect.test', subject, reason: `${from} to ${to}` }], input: { type: event, at: atMs }, evidence,
    summary: `${subject}: ${JSON.stringify(from)} → ${JSON.stringify(to)} on ${event}`,
  }
}

/** A small two-node incident built by hand: b sees a go suspect then dead, fences it, takes web over. */
export function constructedExplanation(): VizExplanation {
  return {
    nodes: ['a', 'b'],
    machines: [
      machine('a', 1, 'local#1', 'local', 'a', 'joining', 0),
      machine('b', 1, 'local#1', 'local', 'b', 'joining', 0),
      machine('b', 1, 'peer:a#1', 'peer', 'a', 'unknown', 0),
      machine('b', 1, 'service:web#1', 'service', 'web', 'stopped', 5),
      machine('b', 1, 'fence:a:1#1', 'fencing', 'a', 'delaying', 300),
    ],
    decisions: [
      decision('a', 'local#1', 'local', 'a', 'joining', 'member', 'DISK_WRITE_OK', 10, ['own status write completed: seq 1']),
      decision('b', 'local#1', 'local', 'b', 'joining', 'member', 'DISK_WRITE_OK', 11, ['own status write completed: seq 1']),
      decision('b', 'peer:a#1', 'peer', 'a', 'unknown', 'up', 'HEARTBEAT', 20, ['heartbeat on channel 0: incarnation 1, says up']),
      decision('b', 'peer:a#1', 'peer', 'a', 'up', 'suspect', 'CHECK', 200, ['disk: no new write for 523 ms </script><b>not markup</b>']),
      decision('b', 'peer:a#1', 'peer', 'a', 'suspect', 'dead', 'CHECK', 290, ['disk silent 1504 ms, heartbeat silent 1752 ms']),
      decision('b', 'fence:a:1#1', 'fencing', 'a', 'fencing', 'succeeded', 'METHOD_DONE', 400, ['fence method 1 answered ok']),
      decision('b', 'service:web#1', 'service', 'web', 'stopped', 'acquiring', 'PLACE', 410, ['placement: owner b (holder a dead)']),
    ],
  }
}
