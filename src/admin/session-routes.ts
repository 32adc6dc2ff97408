/** The signed-in caller (for the UI), sign-out, and the deployment's settings. */
import { Type } from '@sinclair/typebox'
import { VERSION } from '../version'
import { doc, json, type AdminApi } from './api'
import { Nullable, OrgRole, ProjectRole } from './schemas'
import { endSession } from './session'
import { publicBase } from './context'
import { requireOrgAdmin } from './authz'
import { restartOnlyChanges } from '../gateway'

export function sessionRoutes(api: AdminApi): void {
  api.get(
    '/session',
    ({ ctx, p }) => {
      const u = p.userId ? ctx.dir.user(p.userId) : undefined
      const projects = p.orgAdmin ? ctx.dir.projects().map((x) => ({ id: x.id, role: 'admin' as const })) : [...p.projects].map(([id, role]) => ({ id, role }))
      return {
        user: u ? { id: u.id, email: u.email ?? null, name: u.name ?? null } : null,
        actor: p.actor,
        kind: p.kind,
        org_role: p.orgAdmin ? ('admin' as const) : ('member' as const),
        projects,
        csrf_token: p.csrf ?? null,
      }
    },
    {
      ...doc('session', 'Who is signed in, their roles, and the CSRF token to echo in x-csrf-token', Type.Object({
        user: Nullable(Type.Object({ id: Type.String(), email: Nullable(Type.String()), name: Nullable(Type.String()) })),
        actor: Type.String(),
        kind: Type.String(),
        org_role: OrgRole,
        projects: Type.Array(Type.Object({ id: Type.String(), role: ProjectRole })),
        csrf_token: Nullable(Type.String()),
      })),
    },
  )

  api.delete(
    '/session',
    async ({ ctx, request, cookie }) => {
      await endSession(ctx, request, cookie)
      return { ok: true }
    },
    doc('session', 'Sign out (ends this browser session)'),
  )

  api.get(
    '/settings',
    ({ ctx, p, request }) => {
      requireOrgAdmin(p)
      const o = ctx.oidc?.cfg
      return {
        version: VERSION,
        public_url: publicBase(ctx.config, request),
        oidc: {
          configured: Boolean(o),
          issuer: o?.issuer ?? null,
          client_id: o?.client_id ?? null,
          allowed_domains: o?.allowed_domains ?? [],
          admin_emails: o?.admin_emails ?? [],
          groups_claim: o?.groups_claim ?? null,
          admin_groups: o?.admin_groups ?? [],
        },
        pending_restart: restartOnlyChanges(ctx.started, ctx.config),
        secrets_key: { usable: Boolean(ctx.box), problem: ctx.boxProblem ?? null },
        session_hours: ctx.config.admin.session_hours,
        invitation_days: ctx.config.admin.invitation_days,
        counts: { projects: ctx.dir.projects().length, users: ctx.dir.users().length, providers: ctx.dir.providers().length },
      }
    },
    {
      ...doc('session', "The deployment's admin settings, no secrets (org admin)", Type.Object({
        version: Type.String(),
        public_url: Type.String(),
        /** The sign-in settings in force now (a SIGHUP applies a changed [auth.oidc] from the next sign-in). */
        oidc: Type.Object({
          configured: Type.Boolean(),
          issuer: Nullable(Type.String()),
          client_id: Nullable(Type.String()),
          allowed_domains: Type.Array(Type.String()),
          admin_emails: Type.Array(Type.String()),
          groups_claim: Nullable(Type.String()),
          admin_groups: Type.Array(Type.String()),
        }),
        /** Settings changed in config.toml that a running process keeps until its restart. */
        pending_restart: Type.Array(Type.String()),
        secrets_key: Type.Object({ usable: Type.Boolean(), problem: Nullable(Type.String()) }),
        session_hours: Type.Number(),
        invitation_days: Type.Number(),
        counts: Type.Object({ projects: Type.Integer(), users: Type.Integer(), providers: Type.Integer() }),
      })),
    },
  )
}
