import { describe, expect, test } from 'bun:test'
import { samplingInterval, summarise } from '../../scripts/profile-top'

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children })

/** Ten samples a millisecond apart in `busy`, then one in `last` followed by a second of idle (no samples), then one more in `busy`. */
function profile() {
  const nodes = [frame(1, '(root)', '', [2, 3]), frame(2, 'busy', 'file://src/a.ts'), frame(3, 'last', 'file://src/b.ts')]
  const samples = [...Array(10).fill(2), 3, 2]
  const timeDeltas = [...Array(11).fill(1000), 1_000_000]
  return { nodes, samples, timeDeltas, startTime: 0, endTime: 1_012_000 }
}

describe('profile-top', () => {
  test('an idle gap after a sample is not counted as that function’s time', () => {
    const s = summarise(profile())
    const ms = Object.fromEntries(s.byFunction.map(([k, v]) => [k.split(' ')[0], v / 1000]))
    // Weighed by the time to the next sample, `last` had the whole idle second.
    expect(ms.last).toBeLessThanOrEqual(1.5)
    expect(ms.busy).toBeGreaterThanOrEqual(9)
    expect(s.total / 1000).toBeLessThan(15)
  })

  test('the sampling interval is what most gaps are', () => {
    expect(samplingInterval([1000, 1000, 1010, 990, 1000, 1000, 1000, 1000, 1000, 5_000_000])).toBeGreaterThanOrEqual(990)
    expect(samplingInterval([1000, 1000, 1010, 990, 1000, 1000, 1000, 1000, 1000, 5_000_000])).toBeLessThanOrEqual(1010)
  })
})
