/** Simulator seeds 26 to 50 (short runs); 200 seeds in all, 25 per file so that tap spreads them over its jobs. */
import t from 'tap'
import { seedRange } from '../seed-range.js'

await seedRange(t, 26, 25)
