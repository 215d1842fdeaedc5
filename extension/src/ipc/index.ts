// The native façade: everything the extension, the CLI and the tests know about IPC objects.
// No vscode import here: the CLI and tests use it as it is.
export { IpcError } from './errors';
export { list, MQUEUE_NOTE } from './list';
export { containerOf, containerOfCgroup, namespacePid, namespacesOf, nsMsgPeek, nsPidsOf, parseNsPid, nsPosixShmRemove, nsRaw, nsRemove, nsSem, nsShmRead, nsShmStat } from './namespaces';
export { openRegion, RegionHandle, scanRegions, type RegionScan } from './regions';
export { limits } from './limits';
export {
  createMsgQueue,
  createPosixMq,
  createPosixSem,
  createPosixShm,
  createSemSet,
  createShm,
  exists,
  msgCount,
  msgPeek,
  msgSend,
  openObject,
  openShm,
  openSource,
  psemPost,
  psemValue,
  psemWait,
  remove,
  schemaIdentity,
  semCount,
  semGet,
  semPost,
  semSetValue,
  semWait,
  type ShmHandle,
  type WaitOptions,
} from './objects';
export { describeKind, describeTarget, formatTarget, hexKey, kindOfTarget, parseNumber, parseTarget, resolveKey, targetOf, type RegionTarget, type Target } from './target';
export * from './types';
export { ancestry, editorProcesses } from './procfs';
