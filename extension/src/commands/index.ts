// The explorer's commands, one module per kind of object (objects.ts: copy, create, remove and the
// demo; semaphores.ts; messages.ts; namespaces.ts: the objects of another IPC namespace), each
// registered through the one command wrapper (platform/register.ts). Each takes a tree node from a menu, or a target ("sem:5", a
// Target) plus options from a script or a test, and asks only for what it was not given.
import type * as vscode from 'vscode';
import type { CommandDeps } from './common';
import * as messages from './messages';
import * as namespaces from './namespaces';
import * as objects from './objects';
import * as semaphores from './semaphores';

export { targetFromArg, type CommandDeps } from './common';

export function activate(context: vscode.ExtensionContext, deps: CommandDeps): void {
  objects.activate(context, deps);
  semaphores.activate(context, deps);
  messages.activate(context, deps);
  namespaces.activate(context, deps);
}
