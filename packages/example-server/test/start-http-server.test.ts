import { expect, it } from "vitest";
import { startHttpServer } from "../src/index.js";

const ok = () =>
  startHttpServer({
    listener: (_req, res) => res.end("ok"),
    port: 0,
    host: "127.0.0.1",
    closeInOrder: [],
  });

it("listens on a free port; closes the app in order, once, however often close() is called", async () => {
  const closed: string[] = [];
  const http = await startHttpServer({
    listener: (_req, res) => res.end("ok"),
    port: 0,
    host: "127.0.0.1",
    closeInOrder: [
      { close: async () => void closed.push("handler") },
      { close: async () => void closed.push("sessions") },
    ],
  });
  expect(http.origin).toBe(`http://127.0.0.1:${http.port}`);
  expect(await (await fetch(http.origin)).text()).toBe("ok");

  await Promise.all([http.close(), http.close()]);
  await http.close();
  expect(closed).toEqual(["handler", "sessions"]);
  await expect(fetch(http.origin)).rejects.toThrow();
});

it("closes the app when the port is taken, then rejects with the listen error", async () => {
  const taken = await ok();
  let appClosed = 0;
  try {
    const second = startHttpServer({
      listener: (_req, res) => res.end("second"),
      port: taken.port,
      host: "127.0.0.1",
      closeInOrder: [{ close: async () => void appClosed++ }],
    });
    await expect(second).rejects.toHaveProperty("code", "EADDRINUSE");
    expect(appClosed).toBe(1);
  } finally {
    await taken.close();
  }
});
