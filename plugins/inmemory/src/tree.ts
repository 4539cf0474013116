/** The in-memory tree: directories hold named children, files hold their content as immutable chunks. */
export interface MemoryFile {
  readonly kind: 'file';
  /** never mutated once stored, so readers may keep a reference while the file is replaced */
  readonly chunks: readonly Buffer[];
  readonly size: number;
  readonly modTime: Date;
}

export interface MemoryDirectory {
  readonly kind: 'dir';
  readonly children: Map<string, MemoryNode>;
  readonly modTime: Date;
}

export type MemoryNode = MemoryFile | MemoryDirectory;

export const newDirectory = (): MemoryDirectory => ({ kind: 'dir', children: new Map(), modTime: new Date() });

export const segmentsOf = (path: string): string[] => path.split('/').filter((segment) => segment !== '');

export function find(root: MemoryDirectory, path: string): MemoryNode | undefined {
  let node: MemoryNode = root;
  for (const segment of segmentsOf(path)) {
    if (node.kind !== 'dir') return undefined;
    const child: MemoryNode | undefined = node.children.get(segment);
    if (!child) return undefined;
    node = child;
  }
  return node;
}

/** The directory that holds `path`, created as needed; fails when an ancestor is a file. */
export function parentOf(root: MemoryDirectory, path: string): { parent: MemoryDirectory; name: string } {
  const segments = segmentsOf(path);
  const name = segments.pop()!;
  let dir = root;
  for (const segment of segments) {
    let child = dir.children.get(segment);
    if (!child) {
      child = newDirectory();
      dir.children.set(segment, child);
    }
    if (child.kind !== 'dir') throw new Error(`not a directory: ${segment} in ${path}`);
    dir = child;
  }
  return { parent: dir, name };
}
