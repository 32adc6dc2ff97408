/** The signed-in caller, as GET /session told it. */
export interface Session {
  user: { id: string; email: string | null; name: string | null } | null
  actor: string
  org_role: 'admin' | 'member'
  projects: { id: string; role: 'admin' | 'member' }[]
  csrf_token: string | null
}

export const state: { session: Session | undefined } = { session: undefined }

export const isOrgAdmin = () => state.session?.org_role === 'admin'
export const adminOf = (project: string) => isOrgAdmin() || state.session?.projects.some((p) => p.id === project && p.role === 'admin') === true
export const administersAny = () => isOrgAdmin() || (state.session?.projects.some((p) => p.role === 'admin') ?? false)
