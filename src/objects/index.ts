/** Provider-side objects stay in their project: ownership store, the pipeline guard, pruning. */
export { ObjectStore, isPlausibleId, MAX_ID_BYTES, type Owner } from './store'
export { ObjectGuard } from './guard'
export { ObjectRetention } from './retention'
