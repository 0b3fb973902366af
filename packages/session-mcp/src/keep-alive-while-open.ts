import type { SessionRecord } from "@mcp-sessions/session-core";
import { describeError, log, unrefTimeout } from "@mcp-sessions/session-core/store";
import { type HandlerContext, releaseSession } from "./handler-context.js";

const LOGGER = "session-mcp/handler";

/**
 * An open stream keeps its session alive: a client that only listens is not idle. Every ttl/3
 * while the response is open, the session is touched; once it is gone, its streams here close.
 */
export function keepAliveWhileOpen(
  context: HandlerContext,
  session: SessionRecord,
  closed: Promise<void>,
): void {
  const { sessions, logger } = context.options;
  const owner = session.owner === undefined ? {} : { owner: session.owner };
  const interval = Math.max(1_000, Math.floor(sessions.ttl / 3));
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = unrefTimeout(() => {
      sessions
        .touch(session.id, owner)
        .then((live) => (live ? undefined : releaseSession(context, session.id)))
        .catch((error: unknown) =>
          log(logger, {
            level: "warning",
            logger: LOGGER,
            data: { message: "Keep-alive touch failed", error: describeError(error) },
          }),
        )
        .finally(() => {
          if (open) arm();
        });
    }, interval);
  };
  arm();
  void closed.finally(() => {
    open = false;
    clearTimeout(timer);
  });
}
