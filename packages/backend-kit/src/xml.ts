/**
 * XML for the S3-style APIs (S3, OSS): fast-xml-parser reads replies and builds request bodies, so
 * entities, CDATA, attributes and self-closing elements are handled by a parser rather than by regular
 * expressions. Replies are read as a tree of `XmlElement`s in which every child is a list (a listing
 * with one `<Contents>` reads like one with a thousand) and every leaf is text, never a number.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/** An element: its child elements by name, in document order; a leaf element is its text. */
export interface XmlElement {
  readonly [child: string]: readonly (XmlElement | string)[] | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  // Keys, ETags and upload ids stay text: "0012" or "1e5" must not become numbers.
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  // Also decodes numeric references (`&#x1F;`), which S3 uses for control characters in keys.
  htmlEntities: true,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
});

const builder = new XMLBuilder({ ignoreAttributes: true, processEntities: true, suppressEmptyNode: false });

const EMPTY: XmlElement = {};

/** The document's root element (`<ListBucketResult>`, `<Error>` ...) by name; an empty element when it is absent or the text is not XML. */
export function parseXml(text: string | Buffer, root: string): XmlElement {
  let document: XmlElement;
  try {
    document = parser.parse(typeof text === 'string' ? text : text.toString('utf8')) as XmlElement;
  } catch {
    return EMPTY;
  }
  return xmlChildren(document, root)[0] ?? EMPTY;
}

/** The child elements named `name` (a leaf child reads as an empty element). */
export function xmlChildren(element: XmlElement, name: string): XmlElement[] {
  return (element[name] ?? []).map((child) => (typeof child === 'string' ? EMPTY : child));
}

/** The text of the first child named `name`; undefined when there is none ('' for an empty element). */
export function xmlText(element: XmlElement, name: string): string | undefined {
  const first = element[name]?.[0];
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : '';
}

/** A body value: nested records become elements, arrays repeat an element, scalars become text. */
export type XmlValue = string | number | boolean | XmlBody | readonly XmlValue[];
export interface XmlBody {
  readonly [element: string]: XmlValue;
}

/** `<?xml ...?>` and the document, with text escaped. */
export function buildXml(document: XmlBody): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(document) as string}`;
}
