import { it } from "vitest";
import { startFleet } from "./support/fleet.js";
import { initializeRaw, postRequest, rawRequest } from "./support/http.js";
it("dbg", async () => {
  const fleet = await startFleet({ size: 1 });
  fleet.a.http.server.on("connection", (s) => { console.log("conn", s.remotePort); s.on("close", () => console.log("close", s.remotePort)); });
  const session = await initializeRaw(fleet.a.url);
  const r = await fetch(fleet.a.url, { method: "POST", headers: session.headers, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "x", params: { pad: "x".repeat(5e6) } }) });
  console.log("big", r.status, await r.text());
  const r2 = await postRequest(fleet.a.url, session, "tools/list"); console.log("after", r2.status, (await r2.text()).length);
  const latin1 = Buffer.from([0x73, 0x69, 0x64, 0xe9, 0xff]).toString("latin1");
  for (const method of ["POST", "GET", "DELETE"]) {
    const t = Date.now();
    const x = await rawRequest(fleet.a.url, { method, headers: { ...session.headers, "mcp-session-id": latin1 }, ...(method === "POST" ? { body: "{}" } : {}) });
    console.log(method, x.status, x.body, Date.now() - t);
  }
  const t = Date.now();
  try { const r3 = await postRequest(fleet.a.url, session, "tools/list"); console.log("final", r3.status); } catch (e) { console.log("final err", (e as Error).cause, Date.now() - t); }
  await fleet.close();
});
