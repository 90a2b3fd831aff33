// A thin, safe layer over fast-xml-parser: no entity expansion, DOCTYPE refused, attributes kept,
// every element an array so repeated elements keep their document order.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DefinitionError } from './errors.js';

export type XNode = Record<string, unknown>;

const ATTRS = '@';

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

// libxml2's default limit; libvirt's network XML needs about 5 levels. The parser below recurses
// per level, so a deeper document would end in a stack overflow instead of an answer.
export const MAX_XML_DEPTH = 256;

// The deepest element nesting, counted without parsing (comments, CDATA, processing instructions
// and quoted attribute values skipped); stops counting once past `limit`.
export const xmlDepth = (text: string, limit = MAX_XML_DEPTH): number => {
  let depth = 0;
  let max = 0;
  let i = text.indexOf('<');
  const skipTo = (from: number, end: string): number => { const e = text.indexOf(end, from); return e < 0 ? text.length : e + end.length; };
  while (i >= 0 && i < text.length) {
    if (text.startsWith('<!--', i)) i = skipTo(i + 4, '-->');
    else if (text.startsWith('<![CDATA[', i)) i = skipTo(i + 9, ']]>');
    else if (text.startsWith('<?', i)) i = skipTo(i + 2, '?>');
    else if (text.startsWith('<!', i)) i = skipTo(i + 2, '>');
    else {
      let j = i + 1;
      let quote = '';
      for (; j < text.length; j++) {
        const c = text[j];
        if (quote !== '') { if (c === quote) quote = ''; } else if (c === '"' || c === "'") quote = c; else if (c === '>') break;
      }
      if (text[i + 1] === '/') depth--;
      else {
        max = Math.max(max, depth + 1);
        if (max > limit) return max;
        if (text[j - 1] !== '/') depth++;
      }
      i = j + 1;
    }
    i = text.indexOf('<', i);
  }
  return max;
};

export const parseXmlDocument = (text: string, file: string): XNode => {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new DefinitionError('EDEF_XML', `${file}: DOCTYPE and ENTITY declarations are not allowed`);
  }
  if (xmlDepth(text) > MAX_XML_DEPTH) {
    throw new DefinitionError('EDEF_XML', `${file}: elements nested deeper than ${MAX_XML_DEPTH} levels`);
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const msg = valid.err.msg.replace(/\s+/g, ' ').trim();
    throw new DefinitionError('EDEF_XML', `${file}: not well-formed XML at line ${valid.err.line}: ${msg}`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    attributesGroupName: ATTRS,
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    trimValues: true,
    maxNestedTags: MAX_XML_DEPTH,
    isArray: (_name, _jpath, _leaf, isAttribute) => !isAttribute,
  });
  try {
    return parser.parse(text) as XNode;
  } catch (e) {
    // Whatever the parser still refuses is bad input, not an internal error.
    throw new DefinitionError('EDEF_XML', `${file}: cannot parse the XML: ${(e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim()}`);
  }
};

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
