/**
 * The layering, as docs/architecture.md states it, checked on the import statements of every source file:
 * src/http -> src/registry -> src/storage (the contract) -> plugin. A plugin depends on stowage for types only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ImportEdge {
  readonly file: string;
  readonly specifier: string;
  /** the file or folder a relative specifier points at; undefined for a package */
  readonly target?: string;
  /** erased at compile time: `import type`, `export type`, or only `type` specifiers */
  readonly typeOnly: boolean;
}

/** Every import, re-export and dynamic import() of a TypeScript source text. */
function importsOf(file: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    const target = specifier.startsWith('.') ? path.resolve(path.dirname(file), specifier) : undefined;
    edges.push({ file, specifier, typeOnly, ...(target ? { target } : {}) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (clause.name === undefined && named !== undefined && named.length > 0 && named.every((element) => element.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier.text, node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((element) => element.isTypeOnly)));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) files.push(...sourceFiles(full));
    else if (/\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) files.push(full);
  }
  return files;
}

const importsUnder = (relativeDir: string): ImportEdge[] =>
  sourceFiles(path.join(ROOT, relativeDir)).flatMap((file) => importsOf(file, readFileSync(file, 'utf8')));

const inside = (target: string | undefined, relativeDir: string): boolean => {
  if (!target) return false;
  const dir = path.join(ROOT, relativeDir);
  return target === dir || target.startsWith(`${dir}${path.sep}`) || target === `${dir}.js` || target === `${dir}.ts`;
};

const show = (edge: ImportEdge): string => `${path.relative(ROOT, edge.file)} imports ${edge.specifier}`;

const PLUGINS = readdirSync(path.join(ROOT, 'plugins')).filter((name) => statSync(path.join(ROOT, 'plugins', name, 'src')).isDirectory());

/** Runtime package names a plugin may not depend on: stowage itself (types only). */
const isStowage = (specifier: string): boolean => specifier === 'stowage' || specifier.startsWith('stowage/');

describe('the import rules', () => {
  it('src/http imports nothing from src/storage, src/plugins, a plugin or the backend kit', () => {
    const forbidden = importsUnder('src/http').filter(
      (edge) =>
        inside(edge.target, 'src/storage') ||
        inside(edge.target, 'src/plugins') ||
        inside(edge.target, 'plugins') ||
        inside(edge.target, 'packages') ||
        edge.specifier.startsWith('@stowage/') ||
        isStowage(edge.specifier),
    );
    expect(forbidden.map(show)).toEqual([]);
  });

  it('src/registry imports nothing from src/http, src/plugins, src/cli, the composition root or a plugin', () => {
    const forbidden = importsUnder('src/registry').filter(
      (edge) =>
        inside(edge.target, 'src/http') ||
        inside(edge.target, 'src/plugins') ||
        inside(edge.target, 'src/cli') ||
        inside(edge.target, 'src/container') ||
        inside(edge.target, 'src/embed') ||
        inside(edge.target, 'plugins') ||
        inside(edge.target, 'packages'),
    );
    expect(forbidden.map(show)).toEqual([]);
  });

  it('src/storage, the contract, imports nothing from the layers above it or from a plugin', () => {
    const forbidden = importsUnder('src/storage').filter(
      (edge) => edge.target !== undefined && !inside(edge.target, 'src/storage'),
    );
    expect(forbidden.map(show)).toEqual([]);
  });

  it.each(PLUGINS)('plugin %s imports only types from stowage and nothing outside its own folder', (plugin) => {
    const edges = importsUnder(`plugins/${plugin}/src`);
    expect(edges.length).toBeGreaterThan(0);
    const runtimeStowage = edges.filter((edge) => isStowage(edge.specifier) && !edge.typeOnly);
    const outside = edges.filter((edge) => edge.target !== undefined && !inside(edge.target, `plugins/${plugin}/src`));
    expect([...runtimeStowage, ...outside].map(show)).toEqual([]);
  });

  it('the backend kit imports only types from stowage', () => {
    const edges = importsUnder('packages/backend-kit/src');
    const forbidden = edges.filter((edge) => (isStowage(edge.specifier) && !edge.typeOnly) || (edge.target !== undefined && !inside(edge.target, 'packages/backend-kit/src')));
    expect(forbidden.map(show)).toEqual([]);
  });

  it('only the composition root (src/container.ts) builds an HTTP server: nothing else in src or test imports src/http/server', () => {
    const builders = [...importsUnder('src'), ...importsUnder('test')].filter(
      (edge) => inside(edge.target, 'src/http/server') && path.relative(ROOT, edge.file) !== path.join('src', 'container.ts'),
    );
    expect(builders.map(show)).toEqual([]);
  });

  it.each([...PLUGINS.map((plugin) => `plugins/${plugin}`), 'packages/backend-kit'])(
    '%s compiles with verbatimModuleSyntax, so an import of a type without `type` is a compile error',
    (dir) => {
      const config = ts.readConfigFile(path.join(ROOT, dir, 'tsconfig.json'), ts.sys.readFile);
      const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.join(ROOT, dir));
      expect(parsed.options.verbatimModuleSyntax).toBe(true);
    },
  );
});

describe('the import parser these rules rely on', () => {
  it('tells type-only imports from runtime ones and resolves relative paths', () => {
    const file = path.join(ROOT, 'plugins', 'x', 'src', 'index.ts');
    const edges = importsOf(
      file,
      [
        "import type { StorageDriver } from 'stowage';",
        "import { type FileInfo } from 'stowage';",
        "import { READ_AT } from 'stowage';",
        "import { type ReadAt, driverErrors } from 'stowage';",
        "import 'stowage';",
        "export { wrapDriver } from '../../../src/storage/base.js';",
        "export type { Page } from '../../../src/registry/index.js';",
        "const lazy = () => import('stowage/testing');",
      ].join('\n'),
    );
    expect(edges.map((edge) => [edge.specifier, edge.typeOnly])).toEqual([
      ['stowage', true],
      ['stowage', true],
      ['stowage', false],
      ['stowage', false],
      ['stowage', false],
      ['../../../src/storage/base.js', false],
      ['../../../src/registry/index.js', true],
      ['stowage/testing', false],
    ]);
    expect(inside(edges[5]!.target, 'src/storage')).toBe(true);
    expect(inside(edges[5]!.target, 'plugins/x/src')).toBe(false);
  });
});
