// shmscope check --schema FILE.shms: the schema's diagnostics, `file:line:col: severity: message`.
import type { Command } from 'commander';
import { diagJson, formatDiagnostic } from '../../shared/schema';
import { schemaOptions, withSchemaOptions } from '../schema-options';
import { loadSchema } from './decode';
import * as stdout from '../output';
import { escapeControl as esc } from '../../shared/escape';

export function register(program: Command): void {
  withSchemaOptions(program
    .command('check'))
    .description('check an offset schema: syntax, types, layout, static_assert (exit 1 on any error)')
    .requiredOption('--schema <file>', 'the .shms schema')
    .option('--json', 'diagnostics as a JSON array')
    .action(async (opts: { schema: string; json?: boolean; include?: string[]; define?: string[] }) => {
      const schema = loadSchema(opts.schema, schemaOptions(opts));
      const diags = [...schema.diagnostics].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
      if (opts.json) await stdout.json(diags.map(diagJson));
      else for (const d of diags) await stdout.line(esc(formatDiagnostic(opts.schema, d)));
      if (diags.some((d) => d.severity === 'error')) process.exitCode = 1;
    });
}
