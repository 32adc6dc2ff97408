/** The gateway's version, from package.json at build time. */
import pkg from '../package.json'

export const VERSION: string = pkg.version
export const NAME = 'tollgate'
