// shmscope lsp --stdio: the schema language server, for any LSP editor (Neovim, Helix, Emacs).
import type { Command } from 'commander';
import { startServer } from '../../lsp/server';

export function register(program: Command): void {
  program
    .command('lsp')
    .description('run the .shms language server (the one the VS Code extension starts)')
    .option('--stdio', 'speak LSP over stdin/stdout (the default and only transport)')
    .action(() => {
      startServer();
    });
}
