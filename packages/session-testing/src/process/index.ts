export type { ServerProcess, ServerProcessOptions } from "./start-server-process.js";
export { startServerProcess } from "./start-server-process.js";
