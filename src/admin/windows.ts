/** The admin's calendar spend windows (day, ISO week from Monday, month) in `limits.timezone`, as the limits count them. */
import { windowAt } from '../spend/windows'

export interface WindowStarts {
  day: number
  week: number
  month: number
}

export function windowStarts(now: number, zone: string): WindowStarts {
  return { day: windowAt('day', now, zone).start, week: windowAt('week', now, zone).start, month: windowAt('month', now, zone).start }
}
