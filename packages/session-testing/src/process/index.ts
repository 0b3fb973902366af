export type { ServerFleet, ServerFleetOptions, StoppableServer } from "./start-server-fleet.js";
export { startServerFleet } from "./start-server-fleet.js";
export type { ServerProcess, ServerProcessOptions } from "./start-server-process.js";
export { startServerProcess } from "./start-server-process.js";
