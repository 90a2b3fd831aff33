// Safe parsing of XML vnetfw did not write, and reading the parsed tree.
export { MAX_XML_DEPTH, parseSafeXml, xmlDepth, type SafeXmlOptions } from './safe-parse.js';
export { attr, child, children, decodeXmlText, textOf, type XNode } from './nodes.js';
