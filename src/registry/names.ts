/** The spec's grammars for repository names, tags and upload ids. */
import { RegistryError } from './errors.js';

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_GRAMMAR = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_GRAMMAR = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** uuids (ours and distribution's) and nothing that could climb out of the uploads folder */
const UPLOAD_ID_GRAMMAR = /^[A-Za-z0-9_-]{1,128}$/;

/** distribution's limit for a whole repository name */
export const MAX_NAME_LENGTH = 255;

export const isValidName = (name: string): boolean => name.length <= MAX_NAME_LENGTH && NAME_GRAMMAR.test(name);
export const isValidTag = (tag: string): boolean => TAG_GRAMMAR.test(tag);
export const isValidUploadId = (id: string): boolean => UPLOAD_ID_GRAMMAR.test(id);

export function checkName(name: string): void {
  if (name.length > MAX_NAME_LENGTH) {
    throw new RegistryError('NAME_INVALID', `repository name is longer than ${MAX_NAME_LENGTH} characters`, { name: name.slice(0, 64) + '…' });
  }
  if (!NAME_GRAMMAR.test(name)) {
    throw new RegistryError('NAME_INVALID', `invalid repository name ${JSON.stringify(name)}: lowercase components of [a-z0-9] joined by '.', '_', '__' or '-', separated by '/'`, { name });
  }
}

export function checkTag(tag: string): void {
  if (!TAG_GRAMMAR.test(tag)) {
    throw new RegistryError('TAG_INVALID', `invalid tag ${JSON.stringify(tag)}: expected [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`, { tag });
  }
}
