/** Types of the module scripts/build-ui.ts generates (git-ignored); absent until the UI is built. */
export declare const UI_ASSETS: Record<string, string>
