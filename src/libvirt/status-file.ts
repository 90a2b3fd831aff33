// libvirt's status file of a running network (/run/libvirt/network/NAME.xml): <networkstatus>
// holding the live <network> definition and, since libvirt 10.4, the removal list of its firewall
// (<firewall name='fwRemoval'>). Untrusted input: read once (a regular file, at most 1 MiB), the
// same bytes parsed; every problem is a one-line error naming the file (exit 2).
import { MAX_DEFINITION_BYTES, parseNetworkXml, readUntrustedFile, type NetworkDef } from '../definition/index.js';
import { VnetfwError } from '../errors.js';
import { fwRemovalFromStatusXml, type FwRemoval } from '../firewall/index.js';

export class StatusFileError extends VnetfwError {
  constructor(message: string) {
    super('ESTATUSFILE', message, { exitCode: 2 });
    this.name = 'StatusFileError';
  }
}

export interface StatusFile {
  file: string;
  def: NetworkDef;
  xml: string;                      // the <network> element as libvirt wrote it
  listed: FwRemoval | undefined;    // undefined: libvirt <= 10.3 saved no removal list
}

export const parseStatusText = (text: string, file: string): StatusFile => {
  if (!/<networkstatus[\s>]/.test(text)) throw new StatusFileError(`${file}: not a libvirt network status file (no <networkstatus>)`);
  const xml = /<network[\s>][\s\S]*?<\/network>/.exec(text)?.[0];
  if (xml === undefined) throw new StatusFileError(`${file}: <networkstatus> holds no <network> definition`);
  const listed = fwRemovalFromStatusXml(text, file);
  return { file, def: parseNetworkXml(xml, file), xml, listed };
};

export const readStatusFile = async (file: string): Promise<StatusFile> => parseStatusText(await readUntrustedFile(file, MAX_DEFINITION_BYTES), file);
