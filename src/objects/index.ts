/** Provider-side objects stay in their project: ownership store, request hooks, pruning. */
export { ObjectStore, isPlausibleId, MAX_ID_BYTES, type Owner } from './store'
export { ObjectHooks } from './hooks'
export { ObjectRetention } from './retention'
