/** TypeBox schemas shared by several admin resources. */
import { Type } from '@sinclair/typebox'
import type { Limits } from '../config/schema'
import { limitsToNanos } from './money'

export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' })
export const Source = Type.Union([Type.Literal('config'), Type.Literal('db')])
export const ProjectRole = Type.Union([Type.Literal('admin'), Type.Literal('member')])
export const OrgRole = Type.Union([Type.Literal('admin'), Type.Literal('member')])
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const LimitsOut = Type.Object({
  daily_nanos: Nullable(Type.Integer()),
  weekly_nanos: Nullable(Type.Integer()),
  monthly_nanos: Nullable(Type.Integer()),
  total_nanos: Nullable(Type.Integer()),
})

export const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) })
export const Ok = Type.Object({ ok: Type.Boolean() })

export function limitsOut(l: Limits | undefined) {
  return limitsToNanos(l)
}
