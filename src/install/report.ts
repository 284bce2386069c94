/** What one install step found or did, as `carbonado install` prints it. */

export type StepStatus = 'created' | 'updated' | 'ok' | 'done' | 'skipped' | 'would create' | 'would update' | 'would run'

export interface StepReport {
  status: StepStatus
  /** The thing the step is about: a path, a group, a command. */
  what: string
  /** Mode and owner, a gid, or why: shown in parentheses. */
  detail: string
}

/** Whether the step changed (or, in a dry run, would change) something. */
export function changes(report: StepReport): boolean {
  return report.status !== 'ok' && report.status !== 'skipped'
}

export function formatReport(report: StepReport): string {
  return `${report.status.padEnd(12)} ${report.what}${report.detail === '' ? '' : ` (${report.detail})`}`
}

/** 0750 → "0750". */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}
