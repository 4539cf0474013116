/** `stowage config check`: load and validate everything a start would, without calling the driver's factory. */
import { formatIssue, refuseUnhonouredSettings } from '../config/index.js';
import { mirrorPasswords } from '../config/mirror.js';
import { processRedactor } from '../logger.js';
import { preparePlugin } from '../plugins/index.js';
import { pluginOrigin } from './describe-storage.js';
import { configFor, type ConfigFlag } from './load-config.js';

function optionLines(options: Record<string, unknown>, indent = '    '): string[] {
  return Object.entries(options)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${indent}${key}: ${JSON.stringify(value)}`);
}

export async function configCheckCommand(flags: ConfigFlag): Promise<void> {
  const config = await configFor(flags);
  // a configuration `serve` would refuse is not OK
  refuseUnhonouredSettings(config);
  const plugin = await preparePlugin(config);
  const lines = [
    `configuration OK: ${config.source.file ?? 'no config file found, using the defaults'}` +
      (config.source.format === 'docker-registry' ? ` (docker-registry format, flavor ${config.source.flavor ?? 'default'})` : ''),
    `  listen: ${config.http.addr}`,
    `  storage driver: ${plugin.package.manifest.name}` +
      (plugin.requested !== plugin.package.manifest.name ? ` (asked for as ${plugin.requested})` : ''),
    `  plugin: ${pluginOrigin(plugin)}`,
    `  options${plugin.secretPaths.length > 0 ? ' (secrets masked)' : ''}:`,
    ...optionLines(plugin.maskedOptions),
  ];
  for (const upstream of config.mirror?.upstreams ?? []) {
    const local = upstream.prefix === '' ? 'the whole namespace' : `${upstream.prefix}/*`;
    const remote = upstream.remoteprefix === '' ? '' : ` (its ${upstream.remoteprefix}/*)`;
    const who = upstream.username !== undefined ? `, as ${upstream.username}` : '';
    lines.push(`  mirror ${upstream.name}: ${local} from ${upstream.remoteurl}${remote}, tags re-checked after ${upstream.ttl}${who}`);
  }
  for (const warning of config.warnings ?? []) lines.push(`  warning: ${formatIssue(warning)}`);
  processRedactor.add(plugin.secrets);
  processRedactor.add(mirrorPasswords(config));
  process.stdout.write(processRedactor.scrub(`${lines.join('\n')}\n`));
}
