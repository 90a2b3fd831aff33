// The heavy layers are loaded by the commands that use them, when they run: `--help`,
// `--version` and a usage error pay for none of them, `status`, `list` and `log` only for the store.
export const loadState = (): Promise<typeof import('../../state/index.js')> => import('../../state/index.js');
export const loadEngine = (): Promise<typeof import('../engine/index.js')> => import('../engine/index.js');
export const loadDaemon = (): Promise<typeof import('../daemon/index.js')> => import('../daemon/index.js');
export const loadDemo = (): Promise<typeof import('../demo/index.js')> => import('../demo/index.js');
export const loadDoctor = (): Promise<typeof import('../doctor/index.js')> => import('../doctor/index.js');
