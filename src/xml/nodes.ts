// Reading the tree parseSafeXml returns: elements as arrays, attributes under ATTRS, text under
// '#text', entity references decoded only here (the parser expands none).
export type XNode = Record<string, unknown>;

export const ATTRS = '@';

// The five predefined entities and numeric character references: plain XML, no DTD involved.
export const decodeXmlText = (s: string): string =>
  s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9A-Fa-f]+);/g, (_m, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: {
        const cp = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      }
    }
  });

const asNode = (v: unknown): XNode => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as XNode;
  if (typeof v === 'string') return { '#text': v };
  return {};
};

export const children = (node: XNode, name: string): XNode[] => {
  const v = node[name];
  return Array.isArray(v) ? v.map(asNode) : v === undefined ? [] : [asNode(v)];
};

export const child = (node: XNode, name: string): XNode | undefined => children(node, name)[0];

export const attr = (node: XNode | undefined, name: string): string | undefined => {
  if (node === undefined) return undefined;
  const attrs = node[ATTRS];
  if (attrs === null || typeof attrs !== 'object') return undefined;
  const v = (attrs as Record<string, unknown>)[name];
  return typeof v === 'string' ? decodeXmlText(v) : undefined;
};

export const textOf = (node: XNode | undefined): string | undefined => {
  if (node === undefined) return undefined;
  const t = node['#text'];
  if (typeof t === 'string') return decodeXmlText(t);
  if (Array.isArray(t)) return decodeXmlText(t.filter((x) => typeof x === 'string').join(''));
  return '';
};
