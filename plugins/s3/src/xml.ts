/**
 * Just enough XML for S3's answers: they are flat documents of known elements, so a text scan for
 * elements by name (with entity decoding) reads them without an XML dependency.
 */
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export const decodeXml = (text: string): string =>
  text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ENTITIES[e]!,
  );

export const encodeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)};`);

/** The inner text of every `<name>...</name>` element, in document order (nested same-name elements are not supported). */
export function elements(xml: string, name: string): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>|<${name}(?:\\s[^>]*)?/>`, 'g');
  for (const match of xml.matchAll(pattern)) found.push(match[1] ?? '');
  return found;
}

/** The decoded text of the first `<name>` element. */
export function text(xml: string, name: string): string | undefined {
  const [first] = elements(xml, name);
  return first === undefined ? undefined : decodeXml(first);
}
