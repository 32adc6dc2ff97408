/** The routes of gateway keys; what they do is in src/admin/keys.ts. */
import { Type } from '@sinclair/typebox'
import { doc, json, type AdminApi } from './api'
import { Key } from './key-view'
import { KeyChange, KeyFilter, NewKey, createKey, getKey, listKeys, revokeKey, updateKey } from './keys'

export function keyRoutes(api: AdminApi): void {
  api.get(
    '/keys',
    async ({ ctx, p, query }) => ({ keys: await listKeys(ctx, p, query) }),
    {
      query: KeyFilter,
      ...doc('keys', 'Keys the caller can see, with spend against their limits', Type.Object({ keys: Type.Array(Key) })),
    },
  )
  api.post(
    '/keys',
    ({ ctx, p, body }) => createKey(ctx, p, body),
    {
      ...json(NewKey),
      ...doc(
        'keys',
        'Create a gateway key. The secret is in this answer only. Members make personal keys; project admins also project keys and keys for members.',
        Type.Object({ key: Key, secret: Type.String() }),
        201,
      ),
    },
  )
  api.get('/keys/:id', ({ ctx, p, params }) => getKey(ctx, p, params.id), doc('keys', 'One key', Key))
  api.patch(
    '/keys/:id',
    ({ ctx, p, params, body }) => updateKey(ctx, p, params.id, body),
    {
      ...json(KeyChange),
      ...doc('keys', 'Rename a key or change its expiry (its holder or a project admin); limits are under /limits', Key),
    },
  )
  api.post('/keys/:id/revoke', ({ ctx, p, params }) => revokeKey(ctx, p, params.id), doc('keys', 'Revoke a key; the gateway refuses it from the next request', Key))
}
