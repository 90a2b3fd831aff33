// Living beside libvirt: its status files (adopt) and its network hook.
export { parseStatusText, readStatusFile, StatusFileError, type StatusFile } from './status-file.js';
export { actionOf, hookNetwork, type HookAction, type HookNetwork } from './hook-data.js';
export { DEFAULT_HOOK_DIR, HOOK_FILE, hookScript, isOurHook, type HookTarget } from './hook-script.js';
export { HookInstallError, installHook, uninstallHook, type Installed } from './hook-install.js';
