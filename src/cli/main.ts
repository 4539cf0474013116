/** The `stowage` command line. bin/stowage.js imports this module from dist. */
import 'reflect-metadata';
import { Command } from 'commander';
import { configCheckCommand } from './config-check.js';
import { reportFailure } from './failure.js';
import { garbageCollectCommand } from './garbage-collect.js';
import { mirrorSyncCommand } from './mirror-sync.js';
import { retentionCommand } from './retention.js';
import { searchReindexCommand } from './search-reindex.js';
import { catalogRebuildCommand } from './catalog-rebuild.js';
import { pluginsListCommand } from './plugins-list.js';
import { pluginsNewCommand } from './plugins-new.js';
import { pluginsVerifyCommand } from './plugins-verify.js';
import { serveCommand } from './serve.js';
import { versionLine } from './version.js';


const CONFIG_HELP = 'config file (default: stowage.config.yaml and friends, searched from the working folder)';

export function buildProgram(): Command {
  const program = new Command('stowage')
    .description('an OCI container image registry whose storage backends are plugins')
    .version(versionLine(), '-V, --version', 'print the version and the git commit it was built from')
    .showHelpAfterError();

  program
    .command('serve')
    .description('load the config and the storage plugin, then serve the registry API until SIGINT/SIGTERM')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(serveCommand);

  program
    .command('garbage-collect')
    .description('remove blobs no manifest references (distribution\'s registry garbage-collect), on any storage plugin; run it with the registry stopped')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('-d, --dry-run', 'list what would be removed, remove nothing')
    .option('-m, --delete-untagged', 'also remove manifests no tag names (keeping the children and referrers of kept ones)')
    .option('--json', 'print the report as JSON')
    .action(garbageCollectCommand);

  program
    .command('retention')
    .description('apply storage.maintenance.retention.policies now: delete the tags and untagged manifests they give up')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('-d, --dry-run', 'list what the policies would delete, delete nothing')
    .option('--json', 'print the report as JSON')
    .action(retentionCommand);

  program
    .command('mirror')
    .description('pull-through mirroring (the proxy section)')
    .command('sync')
    .description('run the scheduled sync entries (proxy.upstreams[].sync) once now, without a server; exit 1 when something could not be synced')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('-u, --upstream <name>', 'only the entries of this upstream')
    .option('--json', 'print the reports as JSON')
    .action(mirrorSyncCommand);

  program
    .command('search')
    .description('the search index behind /v1/search and /v2/_stowage/search')
    .command('reindex')
    .description('rebuild the search index (search.backend sqlite or postgres) from storage; safe while servers run')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(searchReindexCommand);

  program
    .command('catalog')
    .description('the catalog index behind /v2/_catalog')
    .command('rebuild')
    .description('walk the repository tree and write a new catalog index base (after something other than stowage added repositories); safe while servers run')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(catalogRebuildCommand);

  const config = program.command('config').description('work with the configuration');
  config
    .command('check')
    .description('validate the config and the storage plugin\'s options without starting anything (secrets masked)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(configCheckCommand);

  const plugins = program.command('plugins').description('storage plugins');
  plugins
    .command('list')
    .description('list every storage plugin visible from the config: built-in, local folders, npm')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(pluginsListCommand);
  plugins
    .command('new')
    .description('scaffold a third-party storage driver package that passes the conformance kit')
    .argument('<name>', 'the name operators will write in the config (lowercase, digits, dashes)')
    .option('-d, --dir <dir>', 'folder to create (default: ./stowage-driver-<name>)')
    .action(pluginsNewCommand);
  plugins
    .command('verify')
    .description('check a third-party storage plugin as stowage loads it (manifest, options schema, driver shape), then run the driver conformance kit on it')
    .argument('<plugin>', 'the plugin: its folder, or the name of a package installed here')
    .option('-o, --options <json>', "the driver's options as JSON (or @file), as under storage.<name>; default {}")
    .option('--no-kit', 'only the load-time checks, not the conformance kit')
    .option('--profile <profile>', 'conformance profile: quick (default) or full (distribution\'s sizes)')
    .action(pluginsVerifyCommand);

  return program;
}

export async function run(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    reportFailure(err);
  }
}
