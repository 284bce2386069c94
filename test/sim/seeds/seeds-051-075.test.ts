/** Simulator seeds 51 to 75 (short runs); 200 seeds in all, 25 per file so that tap spreads them over its jobs. */
import t from 'tap'
import { seedRange } from '../seed-range.js'

await seedRange(t, 51, 25)
