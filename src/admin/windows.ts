/** Calendar spend windows in UTC: the day, the ISO week from Monday, the month. */
export interface WindowStarts {
  day: number
  week: number
  month: number
}

export function windowStarts(now: number): WindowStarts {
  const d = new Date(now)
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
  const dow = (d.getUTCDay() + 6) % 7
  return { day, week: day - dow * 86_400_000, month: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) }
}
