/** `stowage plugins list`: every storage plugin visible from this configuration. */
import { listPlugins } from '../plugins/index.js';
import { configFor, type ConfigFlag } from './load-config.js';

export async function pluginsListCommand(flags: ConfigFlag & { json?: boolean }): Promise<void> {
  const config = await configFor(flags);
  const plugins = await listPlugins(config);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(plugins, null, 2)}\n`);
    return;
  }
  const rows = plugins.map((p) => [
    p.name + (p.aliases.length > 0 ? ` (${p.aliases.join(', ')})` : ''),
    p.version,
    p.source,
    p.location + (p.active ? '' : '  [shadowed by an earlier plugin of the same name]'),
  ]);
  const header = ['NAME', 'VERSION', 'SOURCE', 'LOCATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${[format(header), ...rows.map(format)].join('\n')}\n`);
}
