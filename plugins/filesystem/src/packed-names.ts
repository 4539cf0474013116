/**
 * A folder's names kept as one string (the names one after another) and where each ends, instead of one
 * string per name: what a kept listing of 100,000 tags holds (lazily-sorted-names.ts).
 *
 * The strings `Dir` makes for a folder's entries are young when read; an array holding all of them makes
 * every collection during the read copy them (and promote them to the old generation, which every later
 * full collection traces): about a tenth of the CPU of the cold read of 100,000 names (docs/bench.md, "Tag
 * pages, seventh pass"). Joined a batch at a time, the names read are garbage as soon as their batch is
 * joined, and what is kept is a few large objects.
 */

/** how many names read are joined into one piece of text at a time */
const NAMES_PER_PIECE = 1024;

export class PackedNames {
  /**
   * `text`: the names, one after another; `bounds`: where each starts, and after the last where it ends
   * (`size + 1` entries)
   */
  constructor(
    private readonly text: string,
    private readonly bounds: Uint32Array,
  ) {}

  static of(names: readonly string[]): PackedNames {
    const packer = new NamePacker();
    for (const name of names) packer.add(name);
    return packer.packed();
  }

  get size(): number {
    return this.bounds.length - 1;
  }

  name(index: number): string {
    return this.text.slice(this.bounds[index]!, this.bounds[index + 1]!);
  }
}

/** Packs names as they are read (`add`), in that order. */
export class NamePacker {
  private readonly pieces: string[] = [];
  private piece: string[] = [];
  private bounds = new Uint32Array(NAMES_PER_PIECE + 1);
  private count = 0;
  private length = 0;

  add(name: string): void {
    this.piece.push(name);
    this.length += name.length;
    if (this.count + 2 > this.bounds.length) {
      const grown = new Uint32Array(this.bounds.length * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[++this.count] = this.length;
    if (this.piece.length === NAMES_PER_PIECE) {
      this.pieces.push(this.piece.join(''));
      this.piece = [];
    }
  }

  packed(): PackedNames {
    this.pieces.push(this.piece.join(''));
    this.piece = [];
    return new PackedNames(this.pieces.join(''), this.bounds.slice(0, this.count + 1));
  }
}
