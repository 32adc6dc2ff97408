/** Whether `database.url` names PostgreSQL; apart from connect.ts so a libSQL start never loads the pg driver. */
export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://')
}
