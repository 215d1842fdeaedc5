// Recordings (`.shmrec`): the format, the recorder and the reader. Pure: no vscode, no fs.
export * from './format';
export * from './reader';
export * from './recorder';
export * from './replay';
export * from './timeline';
