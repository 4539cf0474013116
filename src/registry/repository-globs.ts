/**
 * Repository name globs, one syntax wherever stowage takes them (`auth.access`, retention policies):
 * `*` matches within one path segment, `**` across segments (`team/**` covers `team/app` and `team/x/app`,
 * not `team` itself; `team-**` covers `team-a` and `team-a/app`); every other character stands for itself.
 * picomatch does the matching, once `**` is turned into patterns that need at least one segment
 * (picomatch's own `a/**` also matches `a`). A glob with a character no repository name holds (`?`,
 * brackets, braces, `!`, capitals, ...) matches nothing, as it would taken literally, and never reaches
 * picomatch, where those characters are operators.
 */
import picomatch from 'picomatch';

/** the characters of repository names, and `*` */
const GLOB_ALPHABET = /^[a-z0-9._/*-]*$/;

/**
 * Whether a glob can match a repository name at all: only name characters and `*`, and no segment a name
 * cannot have (empty, `.`, `..`: picomatch would read `./` and `//` as path syntax).
 */
const canMatch = (glob: string): boolean => GLOB_ALPHABET.test(glob) && glob.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');

/** A segment with `**` inside other characters: each `**` either stays in the segment or crosses into later ones. */
function segmentAlternatives(segment: string): string[] {
  const parts = segment.split('**');
  let alternatives = [parts[0]!];
  for (const part of parts.slice(1)) alternatives = alternatives.flatMap((prefix) => [`${prefix}*${part}`, `${prefix}*/**/*${part}`]);
  return alternatives;
}

/** The picomatch patterns that together match what `glob` (of repository name characters and `*`) means. */
export function picomatchPatterns(glob: string): string[] {
  if (glob === '**') return ['**'];
  const segments = glob.split('/');
  let patterns = [''];
  segments.forEach((segment, index) => {
    const separator = index === 0 ? '' : '/';
    let options: string[];
    // one or more whole segments (at the end, `*/**` alone would need two)
    if (segment === '**') options = index === segments.length - 1 ? ['*', '*/**'] : ['*/**'];
    else if (segment.includes('**')) options = segmentAlternatives(segment);
    else options = [segment];
    patterns = patterns.flatMap((prefix) => options.map((option) => `${prefix}${separator}${option}`));
  });
  return patterns;
}

/** Whether a repository name matches any of `globs`. */
export function repositoryGlobMatcher(globs: readonly string[]): (repository: string) => boolean {
  const patterns = globs.filter(canMatch).flatMap(picomatchPatterns);
  if (patterns.length === 0) return () => false;
  return picomatch(patterns, { dot: true });
}
