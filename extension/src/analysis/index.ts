// The analysis layer: what the views (CLI, explorer, Waits view, inspector) ask of the facts the
// native façade (../ipc) reads: who waits for whom, which schema segment binds an object, where
// processes map it (address ↔ offset), all in the scope of each process's namespaces. Pure
// TypeScript, no vscode import.
export { BoundDecoders, resolveBinding, subjectOf, type BindingSubject, type Identity } from './binding';
export { Scope, procReader, type HostThread, type ScopeReader } from './scope';
export { mappersInScope, ownerLookup, processViews } from './views';
export { durationText, otherWaits, SYSCALL_NAMES, type OtherKind, type OtherWait, type Peer } from './others';
export { adviceOf, cycles, objectOfMapping, parseProcLocks, scanWaits, slowText, threadLookup, WaitHistory, type Holder, type ProcLock, type Wait, type WaitObject, type WaitsOptions, type WaitsReport } from './waits';
export { euStackFrames, gdbFrames, stackText, threadStack, type StackOptions, type ThreadStack } from './stacks';
