/** `tollgate credits add | show`: prepaid credits for managed providers, per project. */
import { defineCommand } from 'citty'
import { addCredits, creditBalances, creditEntries } from '../spend/credits'
import { formatUsd } from '../spend/money'
import { configArg, fail, loadOrExit, table, usdFlag, withDatabase } from './shared'

const add = defineCommand({
  meta: { name: 'add', description: 'Top up a project\'s credits (a ledger entry; nothing is overwritten)' },
  args: {
    ...configArg,
    project: { type: 'string', description: 'Project to top up', required: true },
    usd: { type: 'string', description: 'Amount in USD, e.g. 15', required: true },
    note: { type: 'string', description: 'A note kept with the entry' },
  },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    if (!loaded.config.projects.some((p) => p.id === args.project)) fail(`unknown project "${args.project}" (projects: ${loaded.config.projects.map((p) => p.id).join(', ')})`)
    const nanos = usdFlag('usd', args.usd)!
    if (nanos <= 0) fail('--usd must be more than 0')
    const [b] = await withDatabase(loaded, async (db) => {
      await addCredits(db.db, args.project, nanos, args.note)
      return creditBalances(db.db, [args.project])
    })
    console.log(`added ${formatUsd(nanos)} to project ${args.project}; balance ${formatUsd(b!.balance)} (running gateways see it within seconds)`)
  },
})

const show = defineCommand({
  meta: { name: 'show', description: 'Show credit balances (and, with --project, the latest entries)' },
  args: {
    ...configArg,
    project: { type: 'string', description: 'Only this project, with its latest ledger entries' },
    tail: { type: 'string', description: 'How many entries with --project (default 20)', default: '20' },
  },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const projects = args.project ? [args.project] : loaded.config.projects.map((p) => p.id)
    const { balances, entries } = await withDatabase(loaded, async (db) => ({
      balances: (await creditBalances(db.db, projects)).filter((b) => !args.project || b.project === args.project),
      entries: args.project ? await creditEntries(db.db, args.project, Number(args.tail) || 20) : [],
    }))
    console.log(
      table(balances.map((b) => ({ project: b.project, 'topped up': formatUsd(b.topups), used: formatUsd(b.used), reserved: formatUsd(b.reserved), balance: formatUsd(b.balance) }))),
    )
    if (entries.length) {
      console.log()
      console.log(table(entries.map((e) => ({ time: new Date(e.ts).toISOString(), kind: e.kind, amount: formatUsd(e.amountNanos), request: e.ledgerId ?? undefined, note: e.note ?? undefined }))))
    }
  },
})

export const creditsCommand = defineCommand({
  meta: { name: 'credits', description: 'Prepaid credits for managed providers' },
  subCommands: { add, show },
})
