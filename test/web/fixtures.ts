/** A test-only machine with what today's flat machines lack: nesting, a parallel state, an `after` delay, a final state. */
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
