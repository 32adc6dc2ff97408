import { defineConfig } from 'drizzle-kit'

/** PostgreSQL migrations (src/db/pg/ mirrors src/db/schema*.ts); `npm run db:generate:pg`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/db/pg/schema.ts', './src/db/pg/schema-*.ts'],
  out: './drizzle-pg',
})
