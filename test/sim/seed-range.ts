/** Runs a range of simulator seeds as tap assertions; each failure names the seed and how to reproduce it. */
import './low-priority.js'
import type { Test } from 'tap'
import { describePlan, runSeeds } from './run-seed.js'

export async function seedRange(t: Test, from: number, count: number): Promise<void> {
  const { takeovers } = await runSeeds(from, count, { short: true }, (r) => {
    const problems = r.verdicts.filter((v) => v.valid === false).flatMap((v) => v.problems.map((p) => `${v.checker}: ${p}`))
    t.ok(r.ok, `seed ${r.seed} (${describePlan(r.plan)})${r.ok ? '' : `; reproduce: npm run sim -- --seed ${r.seed} --short --verbose\n${problems.slice(0, 8).join('\n')}`}`)
  })
  t.ok(takeovers > 0, `the seeds exercised takeovers (${takeovers})`)
}
