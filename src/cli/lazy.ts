// The heavy layers are loaded by the commands that use them, when they run: `vnetfw status`,
// `list`, `log` and `--help` do not pay for execa, xstate and the engine at start-up.
export const loadEngine = (): Promise<typeof import('../engine/index.js')> => import('../engine/index.js');
export const loadDaemon = (): Promise<typeof import('../daemon/index.js')> => import('../daemon/index.js');
export const loadDemo = (): Promise<typeof import('../demo/index.js')> => import('../demo/index.js');
