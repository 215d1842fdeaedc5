// esbuild emits imported CSS as dist/webview/main.css beside the script.
declare module '*.css';
