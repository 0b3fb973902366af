// A stand-in server for test/server-process.test.ts, steered by its environment:
// FAIL_AT_START exits with that code before listening; EXIT_ON_SIGTERM is the code on SIGTERM.
import { createServer } from "node:http";

if (process.env.FAIL_AT_START !== undefined) {
  process.stderr.write("cannot start: FAIL_AT_START is set\n");
  process.exit(Number(process.env.FAIL_AT_START));
}

const server = createServer((_req, res) => res.end("ok"));
server.listen(0, "127.0.0.1", () => {
  process.on("SIGTERM", () => {
    process.stderr.write("SIGTERM received\n");
    server.close(() => process.exit(Number(process.env.EXIT_ON_SIGTERM ?? 0)));
  });
  const greeting = process.env.GREETING ?? "none";
  const secret = process.env.SECRET ?? "none";
  process.stdout.write("starting\n");
  process.stdout.write(
    `listening on http://127.0.0.1:${server.address().port}/ (greeting: ${greeting}, secret: ${secret})\n`,
  );
});
