/**
 * The simulator's tests are pure CPU. tap runs two test files at once on a 2-core machine, and
 * the real-process tests beside them have deadlines (a node that cannot write its disk status
 * for 1 s fences itself): run the simulator below them (nice 10), so it takes only the CPU
 * they leave.
 */
import { setPriority } from 'node:os'

setPriority(10)
