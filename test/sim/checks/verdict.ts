/** What a checker says about one run (Jepsen's valid / invalid / unknown). */
export interface Verdict {
  checker: string
  valid: boolean | 'unknown'
  /** One line per problem found: what, where, when (virtual ms). */
  problems: string[]
}

export function verdict(checker: string, problems: string[], unknown = false): Verdict {
  return { checker, valid: problems.length > 0 ? false : unknown ? 'unknown' : true, problems }
}
