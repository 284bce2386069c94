/** Simulator seeds 76 to 100 (short runs); 200 seeds in all, 25 per file so that tap spreads them over its jobs. */
import t from 'tap'
import { seedRange } from '../seed-range.js'

await seedRange(t, 76, 25)
