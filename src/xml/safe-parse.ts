// The one way vnetfw parses XML it did not write (network definitions, libvirt status files and
// their removal lists): a thin layer over fast-xml-parser with no entity expansion, DOCTYPE and
// ENTITY declarations refused, nesting bounded, attributes kept and every element an array so
// repeated elements keep their document order. Each caller passes its own error constructor, so
// a hostile document is reported in that caller's layer (one line, exit 2).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { XNode } from './nodes.js';
import { ATTRS } from './nodes.js';

// libxml2's default limit; libvirt's network XML needs about 5 levels. The parser recurses per
// level, so a deeper document would end in a stack overflow instead of an answer.
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

export interface SafeXmlOptions {
  // The caller's error for a refused document; `message` already names `what`.
  fail: (message: string) => Error;
  // Trim text nodes (definitions) or keep them as written (removal-list arguments).
  trimValues: boolean;
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

// `what` names the document in every message (a file name, or what the text is).
export const parseSafeXml = (text: string, what: string, o: SafeXmlOptions): XNode => {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw o.fail(`${what}: DOCTYPE and ENTITY declarations are not allowed`);
  if (xmlDepth(text) > MAX_XML_DEPTH) throw o.fail(`${what}: elements nested deeper than ${MAX_XML_DEPTH} levels`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw o.fail(`${what}: not well-formed XML at line ${valid.err.line}: ${oneLine(valid.err.msg)}`);
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
    trimValues: o.trimValues,
    maxNestedTags: MAX_XML_DEPTH,
    isArray: (_name, _jpath, _leaf, isAttribute) => !isAttribute,
  });
  try {
    return parser.parse(text) as XNode;
  } catch (e) {
    // Whatever the parser still refuses is bad input, not an internal error.
    throw o.fail(`${what}: cannot parse the XML: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
};
