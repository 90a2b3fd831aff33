// Living beside libvirt: its status files (adopt) and its network hook.
export { parseStatusText, readStatusFile, StatusFileError, type StatusFile } from './status-file.js';
